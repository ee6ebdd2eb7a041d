/**
 * The new id a renewal leaves for its old one to find (docs/design.md#renewal-with-a-grace-window):
 * a request that still carries the old id within the grace window is given the new id, so its
 * response moves the browser on even when the response that renewed never arrived.
 *
 * The store must not hold it readable: with `hash_ids` no stored key or value may be a usable
 * id. So it is sealed (AES-256-GCM) under a key derived from the old id, which only a client that
 * held the old id has; the store keeps the old id's hash at most.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { isSessionId } from './session-id.ts';

const keyOf = (oldId: string): Buffer => createHash('sha256').update('quickstep.renewal:' + oldId).digest();

/** `newId` sealed under `oldId`: base64url of IV, tag and ciphertext. */
export function sealForward(oldId: string, newId: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', keyOf(oldId), iv);
  const sealed = Buffer.concat([cipher.update(newId, 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString('base64url');
}

/** The new id sealed in `forward` under `oldId`, or undefined for anything else (never throws). */
export function openForward(oldId: string, forward: string): string | undefined {
  try {
    const bytes = Buffer.from(forward, 'base64url');
    if (bytes.length < 29) return undefined;
    const decipher = createDecipheriv('aes-256-gcm', keyOf(oldId), bytes.subarray(0, 12));
    decipher.setAuthTag(bytes.subarray(12, 28));
    const id = Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]).toString('utf8');
    return isSessionId(id) ? id : undefined;
  } catch {
    return undefined;
  }
}
