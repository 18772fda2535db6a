/**
 * Encryption at rest of the agent headers (forwarded credentials) a session keeps: AES-256-GCM with
 * a random 96-bit IV per seal and the session id as additional authenticated data, so a sealed value
 * cannot be moved to another session. Sealed form: `v1.<key id>.<base64url(iv ‖ tag ‖ ciphertext)>`;
 * the key id (8 hex digits of an HMAC of the key) tells a key mismatch between replicas apart from
 * a corrupted value.
 */
import { createCipheriv, createDecipheriv, createHmac, hkdf, randomBytes, scrypt } from 'node:crypto';

const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Fixed on purpose: every replica must derive the same key from the same secret. */
const SALT = 'mcpgate/session-headers/v1';

/** Why a sealed value could not be opened. */
export class HeaderSealError extends Error {
  override readonly name = 'HeaderSealError';

  constructor(readonly reason: 'other-key' | 'corrupt', message: string) {
    super(message);
  }
}

export class HeaderCipher {
  private constructor(private readonly key: Buffer, readonly keyId: string) {}

  /** From a configured secret (may be a passphrase): scrypt (N=2^15, r=8, p=1), once per process. */
  static async fromSecret(secret: string): Promise<HeaderCipher> {
    const key = await new Promise<Buffer>((resolve, reject) =>
      scrypt(secret, SALT, 32, { N: 1 << 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 }, (err, k) => (err ? reject(err) : resolve(k))));
    return new HeaderCipher(key, keyIdOf(key));
  }

  /** From random key material (32 bytes shared through Redis): HKDF-SHA-256. */
  static async fromMaterial(material: Buffer): Promise<HeaderCipher> {
    const key = await new Promise<Buffer>((resolve, reject) =>
      hkdf('sha256', material, SALT, 'mcpgate session headers', 32, (err, k) => (err ? reject(err) : resolve(Buffer.from(k)))));
    return new HeaderCipher(key, keyIdOf(key));
  }

  /** Whether `sealed` was sealed with this key (by its key id; says nothing of its integrity). */
  owns(sealed: string): boolean {
    return sealed.split('.')[1] === this.keyId;
  }

  seal(headers: Record<string, string>, sessionId: string): string {
    const iv = randomBytes(IV_BYTES); // random 96-bit IV: safe far beyond the sessions a key will ever seal (NIST SP 800-38D: 2^32)
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(`mcpgate-session:${sessionId}`));
    const body = Buffer.concat([cipher.update(JSON.stringify(headers), 'utf8'), cipher.final()]);
    return `v1.${this.keyId}.${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url')}`;
  }

  open(sealed: string, sessionId: string): Record<string, string> {
    const [version, keyId, data] = sealed.split('.');
    if (version !== 'v1' || !keyId || data === undefined) throw new HeaderSealError('corrupt', 'not a sealed value');
    if (keyId !== this.keyId) throw new HeaderSealError('other-key', `sealed with key ${keyId}, this replica has key ${this.keyId}`);
    const raw = Buffer.from(data, 'base64url');
    if (raw.length < IV_BYTES + TAG_BYTES) throw new HeaderSealError('corrupt', 'sealed value too short');
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(`mcpgate-session:${sessionId}`));
      decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      const text = Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
      return JSON.parse(text) as Record<string, string>;
    } catch {
      throw new HeaderSealError('corrupt', 'authentication failed (tampered, or sealed for another session)');
    }
  }
}

function keyIdOf(key: Buffer): string {
  return createHmac('sha256', key).update('mcpgate key id').digest('hex').slice(0, 8);
}
