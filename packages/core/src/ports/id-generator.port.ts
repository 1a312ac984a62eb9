export interface IdGenerator {
  /** A new UUID v4, lowercase. */
  next(): string;
}
