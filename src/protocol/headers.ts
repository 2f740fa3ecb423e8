/**
 * Request and response headers.
 *
 * Request header v0: api_key int16, api_version int16, correlation_id int32.
 * v1 adds client_id (nullable string, always the non-compact form); v2 (used by every
 * flexible API version) adds a tagged-field section.
 * Response header v0: correlation_id int32; v1 adds a tagged-field section.
 * ApiVersions responses always use header v0 so that a client that does not yet know
 * which versions the broker speaks can still read the answer.
 */
import { Reader } from './reader';
import { Writer } from './writer';
import { ApiCodec } from './generated';

export const API_VERSIONS_KEY = 18;

export interface RequestHeader {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  clientId: string | null;
}

export function isFlexible(codec: Pick<ApiCodec, 'flexibleFrom'>, version: number): boolean {
  return codec.flexibleFrom !== null && version >= codec.flexibleFrom;
}

/** Reads the fixed part every header version shares. */
export function readHeaderStart(r: Reader): { apiKey: number; apiVersion: number; correlationId: number } {
  return { apiKey: r.int16(), apiVersion: r.int16(), correlationId: r.int32() };
}

/** Reads the rest of the request header once the API's flexibility is known. */
export function readHeaderRest(r: Reader, flexible: boolean): string | null {
  const clientId = r.nullableString();
  if (flexible) r.skipTaggedFields();
  return clientId;
}

export function responseHeaderVersion(apiKey: number, flexible: boolean): 0 | 1 {
  return flexible && apiKey !== API_VERSIONS_KEY ? 1 : 0;
}

export function writeResponseHeader(w: Writer, correlationId: number, headerVersion: 0 | 1): void {
  w.int32(correlationId);
  if (headerVersion === 1) w.uvarint(0);
}

export function writeRequestHeader(w: Writer, h: RequestHeader, flexible: boolean): void {
  w.int16(h.apiKey);
  w.int16(h.apiVersion);
  w.int32(h.correlationId);
  w.string(h.clientId, false);
  if (flexible) w.uvarint(0);
}
