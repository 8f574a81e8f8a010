import { createRequire } from 'node:module';

/**
 * A module of kafkajs's own source (`kafkajs/src/<path>`, pinned at 2.2.4), for the patches
 * beside this file; undefined when a kafkajs version no longer has it, so a patch is skipped
 * rather than half-applied.
 */
export function kafkajsInternal<T>(path: string): T | undefined {
  try {
    return createRequire(__filename)(`kafkajs/src/${path}`) as T;
  } catch {
    return undefined;
  }
}
