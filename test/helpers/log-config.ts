/**
 * A LogConfig for storage tests: week-long segments by time, flushing left to the test (never
 * by count or time), files deleted at once; `overrides` set what the test is about.
 */
import type { LogConfig } from '../../src/storage/log-config';

export function testLogConfig(overrides: Partial<LogConfig> = {}): LogConfig {
  return {
    segmentBytes: 1024 * 1024 * 1024,
    segmentMs: 7 * 24 * 3600 * 1000,
    segmentIndexBytes: 10 * 1024 * 1024,
    indexIntervalBytes: 4096,
    flushMessages: Number.MAX_VALUE,
    flushMs: Number.MAX_VALUE,
    fileDeleteDelayMs: 0,
    ...overrides,
  };
}
