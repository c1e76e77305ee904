// AES-256-GCM, synchronous, in plain JavaScript: the same bytes WebCrypto produces (12-byte IV,
// 16-byte tag, no additional data), checked against it in tests/webapp/unit/aes-gcm.test.mjs.
// Why not only WebCrypto: its promises end an IndexedDB transaction, and the storage layer reads,
// changes and writes encrypted rows inside one transaction (outbox.js, records.js). WebCrypto
// still does what runs outside a transaction: PBKDF2, key wrapping, photos, bulk list reads.
// No DOM, no IndexedDB.

const SBOX = new Uint8Array(256);
const T0 = new Uint32Array(256);
const T1 = new Uint32Array(256);
const T2 = new Uint32Array(256);
const T3 = new Uint32Array(256);

const xtime = (b) => ((b << 1) ^ (b & 0x80 ? 0x1b : 0)) & 0xff;

(function tables() {
  const rotl8 = (x, s) => ((x << s) | (x >>> (8 - s))) & 0xff;
  let p = 1;
  let q = 1;
  do {
    p = (p ^ (p << 1) ^ (p & 0x80 ? 0x1b : 0)) & 0xff; // p * 3
    q ^= q << 1; q ^= q << 2; q ^= q << 4; q &= 0xff; // q / 3
    if (q & 0x80) q ^= 0x09;
    SBOX[p] = (q ^ rotl8(q, 1) ^ rotl8(q, 2) ^ rotl8(q, 3) ^ rotl8(q, 4) ^ 0x63) & 0xff;
  } while (p !== 1);
  SBOX[0] = 0x63;
  for (let i = 0; i < 256; i += 1) {
    const s = SBOX[i];
    const s2 = xtime(s);
    const t = ((s2 << 24) | (s << 16) | (s << 8) | (s2 ^ s)) >>> 0;
    T0[i] = t;
    T1[i] = ((t >>> 8) | (t << 24)) >>> 0;
    T2[i] = ((t >>> 16) | (t << 16)) >>> 0;
    T3[i] = ((t >>> 24) | (t << 8)) >>> 0;
  }
}());

const subWord = (w) => ((SBOX[w >>> 24] << 24) | (SBOX[(w >>> 16) & 255] << 16) | (SBOX[(w >>> 8) & 255] << 8) | SBOX[w & 255]) >>> 0;

function expandKey(key) {
  if (key.length !== 32) throw new Error('AES-256 needs a 32-byte key');
  const w = new Uint32Array(60);
  for (let i = 0; i < 8; i += 1) w[i] = ((key[4 * i] << 24) | (key[4 * i + 1] << 16) | (key[4 * i + 2] << 8) | key[4 * i + 3]) >>> 0;
  let rcon = 1;
  for (let i = 8; i < 60; i += 1) {
    let t = w[i - 1];
    if (i % 8 === 0) {
      t = subWord(((t << 8) | (t >>> 24)) >>> 0) ^ (rcon << 24);
      rcon = xtime(rcon);
    } else if (i % 8 === 4) {
      t = subWord(t);
    }
    w[i] = (w[i - 8] ^ t) >>> 0;
  }
  return w;
}

/** Encrypt one block given as four big-endian words; writes the result into `out`. */
function encryptBlock(rk, a0, a1, a2, a3, out) {
  let s0 = a0 ^ rk[0];
  let s1 = a1 ^ rk[1];
  let s2 = a2 ^ rk[2];
  let s3 = a3 ^ rk[3];
  let k = 4;
  for (let r = 1; r < 14; r += 1) {
    const t0 = T0[s0 >>> 24] ^ T1[(s1 >>> 16) & 255] ^ T2[(s2 >>> 8) & 255] ^ T3[s3 & 255] ^ rk[k];
    const t1 = T0[s1 >>> 24] ^ T1[(s2 >>> 16) & 255] ^ T2[(s3 >>> 8) & 255] ^ T3[s0 & 255] ^ rk[k + 1];
    const t2 = T0[s2 >>> 24] ^ T1[(s3 >>> 16) & 255] ^ T2[(s0 >>> 8) & 255] ^ T3[s1 & 255] ^ rk[k + 2];
    const t3 = T0[s3 >>> 24] ^ T1[(s0 >>> 16) & 255] ^ T2[(s1 >>> 8) & 255] ^ T3[s2 & 255] ^ rk[k + 3];
    s0 = t0; s1 = t1; s2 = t2; s3 = t3;
    k += 4;
  }
  out[0] = ((SBOX[s0 >>> 24] << 24) | (SBOX[(s1 >>> 16) & 255] << 16) | (SBOX[(s2 >>> 8) & 255] << 8) | SBOX[s3 & 255]) ^ rk[k];
  out[1] = ((SBOX[s1 >>> 24] << 24) | (SBOX[(s2 >>> 16) & 255] << 16) | (SBOX[(s3 >>> 8) & 255] << 8) | SBOX[s0 & 255]) ^ rk[k + 1];
  out[2] = ((SBOX[s2 >>> 24] << 24) | (SBOX[(s3 >>> 16) & 255] << 16) | (SBOX[(s0 >>> 8) & 255] << 8) | SBOX[s1 & 255]) ^ rk[k + 2];
  out[3] = ((SBOX[s3 >>> 24] << 24) | (SBOX[(s0 >>> 16) & 255] << 16) | (SBOX[(s1 >>> 8) & 255] << 8) | SBOX[s2 & 255]) ^ rk[k + 3];
}

/**
 * GHASH tables for H: M[(16 * k + byte value) * 4 ..] is (a block holding only that byte at
 * position k) times H, so one block costs 16 look-ups.
 */
function ghashTables(h) {
  const basis = new Uint32Array(128 * 4); // H times x^i, in GCM's reflected bit order
  let [v0, v1, v2, v3] = h;
  for (let i = 0; i < 128; i += 1) {
    basis.set([v0, v1, v2, v3], i * 4);
    const lsb = v3 & 1;
    v3 = ((v3 >>> 1) | (v2 << 31)) >>> 0;
    v2 = ((v2 >>> 1) | (v1 << 31)) >>> 0;
    v1 = ((v1 >>> 1) | (v0 << 31)) >>> 0;
    v0 = ((v0 >>> 1) ^ (lsb ? 0xe1000000 : 0)) >>> 0;
  }
  const m = new Uint32Array(16 * 256 * 4);
  for (let k = 0; k < 16; k += 1) {
    for (let b = 1; b < 256; b += 1) {
      const at = (k * 256 + b) * 4;
      const low = b & -b;
      if (low === b) {
        m.set(basis.subarray((8 * k + 7 - Math.log2(b)) * 4, (8 * k + 8 - Math.log2(b)) * 4), at);
      } else {
        const x = (k * 256 + (b ^ low)) * 4;
        const y = (k * 256 + low) * 4;
        for (let j = 0; j < 4; j += 1) m[at + j] = m[x + j] ^ m[y + j];
      }
    }
  }
  return m;
}

/** An AES-256-GCM key: {encrypt(iv, plaintext), decrypt(iv, ciphertextAndTag)} on Uint8Arrays. */
export function gcmKey(rawKey) {
  const rk = expandKey(rawKey);
  const hBlock = new Uint32Array(4);
  encryptBlock(rk, 0, 0, 0, 0, hBlock);
  const m = ghashTables(hBlock);
  const ks = new Uint32Array(4);

  function ghash(data, length, y) {
    for (let off = 0; off < length; off += 16) {
      const n = Math.min(16, length - off); // a short last block is padded with zeros
      let z0 = 0; let z1 = 0; let z2 = 0; let z3 = 0;
      for (let k = 0; k < 16; k += 1) {
        const byte = (k < n ? data[off + k] : 0) ^ ((y[k >> 2] >>> (24 - 8 * (k & 3))) & 255);
        const at = (k * 256 + byte) * 4;
        z0 ^= m[at]; z1 ^= m[at + 1]; z2 ^= m[at + 2]; z3 ^= m[at + 3];
      }
      y[0] = z0 >>> 0; y[1] = z1 >>> 0; y[2] = z2 >>> 0; y[3] = z3 >>> 0;
    }
  }

  function lengthsBlock(y, bytes) {
    const bits = bytes * 8;
    const block = new Uint8Array(16);
    const view = new DataView(block.buffer);
    view.setUint32(8, Math.floor(bits / 2 ** 32));
    view.setUint32(12, bits >>> 0);
    ghash(block, 16, y);
  }

  /** CTR from counter 2 over `input` into `output` (GCM's keystream for the data). */
  function ctr(j0, input, output) {
    const c0 = j0[0]; const c1 = j0[1]; const c2 = j0[2];
    let counter = j0[3];
    for (let off = 0; off < input.length; off += 16) {
      counter = (counter + 1) >>> 0;
      encryptBlock(rk, c0, c1, c2, counter, ks);
      const end = Math.min(off + 16, input.length);
      for (let i = off; i < end; i += 1) output[i] = input[i] ^ ((ks[(i - off) >> 2] >>> (24 - 8 * ((i - off) & 3))) & 255);
    }
  }

  function tagFor(j0, ciphertext, length) {
    const y = new Uint32Array(4);
    ghash(ciphertext, length, y);
    lengthsBlock(y, length);
    encryptBlock(rk, j0[0], j0[1], j0[2], j0[3], ks);
    const tag = new Uint8Array(16);
    for (let i = 0; i < 16; i += 1) tag[i] = ((y[i >> 2] ^ ks[i >> 2]) >>> (24 - 8 * (i & 3))) & 255;
    return tag;
  }

  const j0Of = (iv) => {
    if (iv.length !== 12) throw new Error('GCM needs a 12-byte IV');
    const view = new DataView(iv.buffer, iv.byteOffset, 12);
    return [view.getUint32(0), view.getUint32(4), view.getUint32(8), 1];
  };

  return {
    encrypt(iv, plaintext) {
      const j0 = j0Of(iv);
      const out = new Uint8Array(plaintext.length + 16);
      ctr(j0, plaintext, out);
      out.set(tagFor(j0, out, plaintext.length), plaintext.length);
      return out;
    },
    decrypt(iv, sealed) {
      if (sealed.length < 16) throw new Error('ciphertext too short');
      const j0 = j0Of(iv);
      const length = sealed.length - 16;
      const tag = tagFor(j0, sealed, length);
      let diff = 0;
      for (let i = 0; i < 16; i += 1) diff |= tag[i] ^ sealed[length + i];
      if (diff !== 0) throw Object.assign(new Error('wrong key or altered data'), { name: 'OperationError' });
      const out = new Uint8Array(length);
      ctr(j0, sealed.subarray(0, length), out);
      return out;
    },
  };
}
