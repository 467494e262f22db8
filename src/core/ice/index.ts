// Public API of the sans-IO ICE pieces: the ICE-lite agent (server side) and the small
// controlling client. Re-exports only.
export { IceLiteAgent, type IceLiteAgentOptions } from './ice-lite-agent.ts';
export { IceControllingClient, IceClientCounter, type IceControllingClientOptions, type IceClientDump, type IceClientState } from './ice-controlling-client.ts';
export { IceLiteCounter, type IceLiteDump, type IceLiteEvent, type IceClientEvent, type IceTransmit } from './ice-types.ts';
export { connectivityCheck, PEER_REFLEXIVE_PRIORITY, type ConnectivityCheck } from './binding-request.ts';
export { bindingSuccess, bindingError } from './binding-response.ts';
