import { RecordsPayload } from './writer';

/**
 * The encode-side view of a message type: every field may be left out (the encoder
 * writes its default), and byte fields may be given as a RecordsPayload of file regions.
 */
export type Encodable<T> = T extends Buffer
  ? Buffer | RecordsPayload
  : T extends (infer U)[]
    ? Encodable<U>[]
    : T extends object
      ? { [K in keyof T]?: Encodable<T[K]> }
      : T;
