/**
 * Reads the topic list out of a member's subscription metadata when the group speaks the
 * "consumer" protocol type (Kafka's ConsumerProtocolSubscription, never flexible):
 *
 *   version int16, topics [string], userData nullable bytes, ... (later versions append
 *   ownedPartitions, generationId, rackId — not needed here)
 *
 * The coordinator otherwise treats metadata and assignments as opaque bytes, passed through
 * byte for byte (client-side assignors such as cooperative-sticky depend on that). The topics
 * are only used where Kafka uses them: OffsetDelete (GROUP_SUBSCRIBED_TO_TOPIC) and offset
 * expiration (offsets of subscribed topics do not expire while the group is alive).
 */
import { Reader } from '../../protocol/reader';

export const CONSUMER_PROTOCOL_TYPE = 'consumer';

/** The subscribed topics, or null when the metadata cannot be read as a subscription. */
export function subscribedTopics(metadata: Buffer): string[] | null {
  try {
    const r = new Reader(metadata);
    const version = r.int16();
    if (version < 0) return null;
    const n = r.int32();
    if (n < 0 || n > r.remaining) return null;
    const topics: string[] = [];
    for (let i = 0; i < n; i++) topics.push(r.string());
    return topics;
  } catch {
    return null;
  }
}
