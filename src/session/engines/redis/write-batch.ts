/**
 * The commands of one event-loop turn, written to Redis together. The socket is corked at the
 * first command of a turn and uncorked in that turn's setImmediate, so the requests one turn's
 * I/O woke up send one write (writev) between them instead of one each; Redis answers them in one
 * read too. This is what ioredis's auto-pipelining saves, without the Pipeline it builds for every
 * batch (which copies every defined script onto itself: redis/options.ts). Nothing waits longer
 * than the end of its own turn, and a command's timer (commandTimeout) still starts when it is
 * sent. A single node or a Sentinel's master only: a Cluster's client has a socket per node.
 */
import type { Writable } from 'node:stream';

export class WriteBatch {
  /** The socket corked in this turn, if any. */
  #corked: Writable | undefined;

  readonly #uncork = (): void => {
    const stream = this.#corked;
    this.#corked = undefined;
    stream?.uncork();
  };

  /** Before a command is sent on `stream` (the client's socket; undefined before it has one). */
  join(stream: Writable | undefined): void {
    if (this.#corked !== undefined || stream === undefined) return;
    stream.cork();
    this.#corked = stream;
    setImmediate(this.#uncork);
  }
}
