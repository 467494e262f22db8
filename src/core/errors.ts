// The base of every typed error that crosses a module boundary (STYLE.md rule 6): a stable
// machine-readable `code` plus a human message. Each area keeps its codes in one catalog.
export class ParleyError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}
