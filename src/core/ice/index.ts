// Public API of the sans-IO ICE pieces: the ICE-lite agent (server side) and the small
// controlling client. Re-exports only.
export { IceLiteAgent, type IceLiteAgentOptions } from './ice-lite-agent.ts';
export {
  IceControllingClient,
  type IceControllingClientOptions,
  type IceClientDump,
  type IceClientState,
} from './ice-controlling-client.ts';
export type { IceLiteDump, IceLiteEvent, IceClientEvent, IceTransmit } from './ice-types.ts';
export {
  ICE_CHECK_DROPS,
  ICE_CLIENT_RESULTS,
  ICE_ERRORS,
  ICE_LITE_RESULTS,
  IceError,
  IceErrorCode,
  type IceCheckDropReason,
  type IceClientCounter,
  type IceLiteCounter,
} from './errors.ts';
export { connectivityCheck, PEER_REFLEXIVE_PRIORITY, type ConnectivityCheck } from './binding-request.ts';
export { bindingSuccess, bindingError } from './binding-response.ts';
