//! The encrypted content container, format v1.
//!
//! See the [crate documentation](crate) for the byte layout and the reasoning behind it. In
//! short: a fixed 64-byte [`Header`], then the plaintext cut into `chunk_size` chunks, each
//! sealed with AES-256-GCM under a nonce that encodes the chunk's index and whether it is the
//! last one, with the whole header as associated data.

use std::io::{ErrorKind, Read, Write};
use std::ops::{Range, RangeInclusive};
use std::sync::{Mutex, OnceLock, PoisonError};

use aes_gcm::aead::inout::InOutBuf;
use aes_gcm::aead::{AeadInOut, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use hmac::{Hmac, Mac};
use rand::rngs::OsRng;
use rand::RngCore;
use sha2::Sha256;
use zeroize::Zeroize;

/// The first eight bytes of every container.
pub const MAGIC: [u8; 8] = *b"MRQCONT1";
/// The container format version this crate writes and reads.
pub const VERSION: u16 = 1;
/// The chunk size [`encrypt`] uses: 64 KiB.
pub const DEFAULT_CHUNK_SIZE: u32 = 64 * 1024;
/// Smallest chunk size a header may declare (4 KiB). Smaller chunks would waste a large share
/// of the file on tags.
pub const MIN_CHUNK_SIZE: u32 = 4 * 1024;
/// Largest chunk size a header may declare (16 MiB). A reader holds one chunk in memory, so a
/// hostile header must not be able to make it allocate gigabytes.
pub const MAX_CHUNK_SIZE: u32 = 16 * 1024 * 1024;
/// Length of the AES-GCM tag that follows every chunk's ciphertext.
pub const TAG_LEN: usize = 16;
/// Length of the fixed header at offset 0.
pub const HEADER_LEN: usize = 64;
/// Sealed bytes [`Opener::open_chunks`] gives each thread at the least (1 MiB, 16 default
/// chunks), so a run is spread from 2 MiB on. Starting and joining a thread costs tens of
/// microseconds on an idle machine and a few hundred on a busy one, where one 64 KiB chunk takes
/// about 30 to open: only a run of many chunks per thread is worth spreading.
pub const PARALLEL_MIN_BYTES_PER_THREAD: usize = 1024 * 1024;
/// Length of the per-file random nonce prefix.
pub const NONCE_PREFIX_LEN: usize = 7;
/// Domain-separation label of the key commitment (see [`ContentKey::commitment`]).
pub const KEY_COMMITMENT_LABEL: &[u8] = b"marquee container v1 key commitment";

// Header field offsets (see the table in the crate docs).
const OFF_VERSION: usize = 8;
const OFF_CHUNK_SIZE: usize = 10;
const OFF_PLAINTEXT_LEN: usize = 14;
const OFF_NONCE_PREFIX: usize = 22;
const OFF_COMMITMENT: usize = 29;
const OFF_RESERVED: usize = 61;

/// A 256-bit content key: one random key per title.
///
/// `Debug` never prints the key, and the bytes are wiped from memory when the value is dropped.
/// There is deliberately no `PartialEq`: compare keys through [`ContentKey::verify_commitment`],
/// which runs in constant time.
#[derive(Clone)]
pub struct ContentKey([u8; 32]);

impl ContentKey {
    /// Draws a fresh key from the operating system's random number generator.
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        OsRng.fill_bytes(&mut bytes);
        ContentKey(bytes)
    }

    /// Wraps existing key bytes (for keys unwrapped from a licence, and for test vectors).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        ContentKey(bytes)
    }

    /// The raw key bytes. Handle with care: whoever holds them can decrypt the title.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The key commitment stored in a container header and in licences:
    /// `HMAC-SHA256(key, "marquee container v1 key commitment" || nonce_prefix)`.
    ///
    /// AES-GCM does not commit to its key: a ciphertext can be crafted that authenticates under
    /// two different keys. The commitment ties a file to exactly one key, so a wrong or
    /// malicious key is refused up front ([`ContainerError::WrongKey`]) instead of producing
    /// "valid" garbage. Including the nonce prefix makes the value differ per file even for the
    /// same key, so it does not reveal that two files share a key.
    pub fn commitment(&self, nonce_prefix: &[u8; NONCE_PREFIX_LEN]) -> [u8; 32] {
        self.commitment_mac(nonce_prefix)
            .finalize()
            .into_bytes()
            .into()
    }

    /// Checks, in constant time, that `commitment` is this key's commitment for `nonce_prefix`.
    pub fn verify_commitment(
        &self,
        nonce_prefix: &[u8; NONCE_PREFIX_LEN],
        commitment: &[u8; 32],
    ) -> bool {
        // `verify_slice` compares in constant time, so timing reveals nothing about the key.
        self.commitment_mac(nonce_prefix)
            .verify_slice(commitment)
            .is_ok()
    }

    fn commitment_mac(&self, nonce_prefix: &[u8; NONCE_PREFIX_LEN]) -> Hmac<Sha256> {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("HMAC accepts any key length");
        mac.update(KEY_COMMITMENT_LABEL);
        mac.update(nonce_prefix);
        mac
    }

    fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new((&self.0).into())
    }
}

impl Drop for ContentKey {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl std::fmt::Debug for ContentKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ContentKey(<redacted>)")
    }
}

/// The fixed 64-byte header at offset 0 of a container.
///
/// A header obtained from [`Header::parse`] or returned by [`encrypt`] is always valid. The
/// fields are public for convenience; the layout methods stay panic-free on a hand-built invalid
/// header, but [`Opener::new`] refuses one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// Plaintext bytes per chunk (every chunk but the last holds exactly this many).
    pub chunk_size: u32,
    /// Total plaintext length in bytes.
    pub plaintext_len: u64,
    /// Random per-file prefix of every chunk nonce.
    pub nonce_prefix: [u8; NONCE_PREFIX_LEN],
    /// [`ContentKey::commitment`] of the file's key.
    pub key_commitment: [u8; 32],
}

impl Header {
    /// Parses the first [`HEADER_LEN`] bytes of `bytes` (more may follow and are ignored).
    ///
    /// Checks the magic, the version, that the chunk size lies within
    /// [`MIN_CHUNK_SIZE`]`..=`[`MAX_CHUNK_SIZE`], that the file needs at most `u32::MAX` chunks
    /// and that the reserved bytes are zero. Because every byte is either checked or kept, a
    /// parsed header re-encodes ([`Header::to_bytes`]) to exactly the bytes it came from, which
    /// is what the chunks authenticate.
    pub fn parse(bytes: &[u8]) -> Result<Header, ContainerError> {
        if bytes.len() < HEADER_LEN {
            return Err(ContainerError::BadHeader(
                "the file is shorter than a container header",
            ));
        }
        let bytes = &bytes[..HEADER_LEN];
        if bytes[..8] != MAGIC {
            return Err(ContainerError::BadMagic);
        }
        let version = u16::from_be_bytes(field(bytes, OFF_VERSION));
        if version != VERSION {
            return Err(ContainerError::UnsupportedVersion(version));
        }
        if bytes[OFF_RESERVED..].iter().any(|&b| b != 0) {
            return Err(ContainerError::BadHeader(
                "reserved header bytes are not zero",
            ));
        }
        let header = Header {
            chunk_size: u32::from_be_bytes(field(bytes, OFF_CHUNK_SIZE)),
            plaintext_len: u64::from_be_bytes(field(bytes, OFF_PLAINTEXT_LEN)),
            nonce_prefix: field(bytes, OFF_NONCE_PREFIX),
            key_commitment: field(bytes, OFF_COMMITMENT),
        };
        header.validate()?;
        Ok(header)
    }

    /// Encodes the header (see the layout table in the crate docs).
    pub fn to_bytes(&self) -> [u8; HEADER_LEN] {
        let mut out = [0u8; HEADER_LEN];
        out[..8].copy_from_slice(&MAGIC);
        out[OFF_VERSION..OFF_CHUNK_SIZE].copy_from_slice(&VERSION.to_be_bytes());
        out[OFF_CHUNK_SIZE..OFF_PLAINTEXT_LEN].copy_from_slice(&self.chunk_size.to_be_bytes());
        out[OFF_PLAINTEXT_LEN..OFF_NONCE_PREFIX].copy_from_slice(&self.plaintext_len.to_be_bytes());
        out[OFF_NONCE_PREFIX..OFF_COMMITMENT].copy_from_slice(&self.nonce_prefix);
        out[OFF_COMMITMENT..OFF_RESERVED].copy_from_slice(&self.key_commitment);
        // out[61..64] stays zero: reserved.
        out
    }

    /// Number of chunks. A zero-length plaintext still has exactly one (empty, last) chunk, so
    /// that even an empty file carries a tag and cannot be cut off unnoticed.
    pub fn chunk_count(&self) -> u64 {
        self.plaintext_len.div_ceil(self.chunk_size_u64()).max(1)
    }

    /// Total length of the container: header plus every sealed chunk.
    pub fn container_len(&self) -> u64 {
        (HEADER_LEN as u64)
            .saturating_add(self.plaintext_len)
            .saturating_add(self.chunk_count().saturating_mul(TAG_LEN as u64))
    }

    /// Byte offset of sealed chunk `index` in the container:
    /// `HEADER_LEN + index * (chunk_size + TAG_LEN)`.
    pub fn chunk_offset(&self, index: u64) -> u64 {
        (HEADER_LEN as u64).saturating_add(
            index.saturating_mul(self.chunk_size_u64().saturating_add(TAG_LEN as u64)),
        )
    }

    /// Length of sealed chunk `index` (plaintext plus tag); 0 for an index past the last chunk.
    pub fn sealed_chunk_len(&self, index: u64) -> usize {
        if index >= self.chunk_count() {
            return 0;
        }
        self.plaintext_chunk_len(index) + TAG_LEN
    }

    /// Plaintext length of chunk `index`; 0 for an index past the last chunk (and for the single
    /// chunk of an empty file).
    pub fn plaintext_chunk_len(&self, index: u64) -> usize {
        let count = self.chunk_count();
        if index >= count {
            return 0;
        }
        let start = index.saturating_mul(self.chunk_size_u64());
        let len = self
            .plaintext_len
            .saturating_sub(start)
            .min(self.chunk_size_u64());
        // At most chunk_size, which is a u32: always fits.
        len as usize
    }

    /// The chunk indices that hold plaintext bytes `start..=end_inclusive`.
    ///
    /// Indices are clamped to the last chunk, so a range running past the end of the plaintext
    /// (as an open-ended HTTP Range does) still yields valid chunks. If `start > end_inclusive`
    /// the returned range is empty.
    pub fn chunks_covering(&self, start: u64, end_inclusive: u64) -> RangeInclusive<u64> {
        if start > end_inclusive {
            #[allow(clippy::reversed_empty_ranges)] // deliberately empty
            return 1..=0;
        }
        let last = self.chunk_count() - 1;
        let cs = self.chunk_size_u64();
        (start / cs).min(last)..=(end_inclusive / cs).min(last)
    }

    /// Byte offset, within the plaintext, of the first byte of chunk `index`.
    pub fn plaintext_offset(&self, index: u64) -> u64 {
        index.saturating_mul(self.chunk_size_u64())
    }

    fn chunk_size_u64(&self) -> u64 {
        // Never divide by zero, even on a hand-built invalid header.
        u64::from(self.chunk_size.max(1))
    }

    fn validate(&self) -> Result<(), ContainerError> {
        if !(MIN_CHUNK_SIZE..=MAX_CHUNK_SIZE).contains(&self.chunk_size) {
            return Err(ContainerError::BadHeader(
                "the chunk size is outside 4 KiB to 16 MiB",
            ));
        }
        // The chunk index is a 32-bit counter inside the nonce; more chunks would reuse nonces.
        if self.chunk_count() > u64::from(u32::MAX) {
            return Err(ContainerError::BadHeader(
                "the file would need more than 2^32 - 1 chunks",
            ));
        }
        Ok(())
    }
}

/// Copies the `N` bytes at `offset` into an array.
fn field<const N: usize>(bytes: &[u8], offset: usize) -> [u8; N] {
    bytes[offset..offset + N]
        .try_into()
        .expect("offsets are within the fixed header")
}

/// The 12-byte AES-GCM nonce of chunk `index`: `nonce_prefix (7) || index as u32 BE (4) ||
/// last flag (1)`. Identical to `aead_stream::StreamBE32` (a test checks this), written out so
/// that the layout is visible and no per-call cipher clone is needed.
fn chunk_nonce(
    nonce_prefix: &[u8; NONCE_PREFIX_LEN],
    index: u32,
    last: bool,
) -> Nonce<aes_gcm::aead::consts::U12> {
    let mut nonce = [0u8; 12];
    nonce[..7].copy_from_slice(nonce_prefix);
    nonce[7..11].copy_from_slice(&index.to_be_bytes());
    nonce[11] = u8::from(last);
    nonce.into()
}

/// Encrypts `plaintext_len` bytes read from `reader` into `writer` (header, then chunks) with the
/// default chunk size and a fresh random nonce prefix. Memory use is one chunk buffer.
///
/// Reads exactly `plaintext_len` bytes; an input that ends early is an
/// [`ContainerError::Io`] error of kind `UnexpectedEof`. On error the output is incomplete and
/// must be discarded.
pub fn encrypt<R: Read, W: Write>(
    key: &ContentKey,
    plaintext_len: u64,
    reader: R,
    writer: W,
) -> Result<Header, ContainerError> {
    // A random 56-bit prefix per file: together with the per-title random key, a (key, nonce)
    // pair is never reused, even if the same key were used for two files.
    let mut nonce_prefix = [0u8; NONCE_PREFIX_LEN];
    OsRng.fill_bytes(&mut nonce_prefix);
    encrypt_with(
        key,
        nonce_prefix,
        DEFAULT_CHUNK_SIZE,
        plaintext_len,
        reader,
        writer,
    )
}

/// [`encrypt`] with an explicit nonce prefix and chunk size, for test vectors.
///
/// Never encrypt two different files under the same key and nonce prefix: GCM then leaks the
/// XOR of the plaintexts and allows forgeries.
pub fn encrypt_with<R: Read, W: Write>(
    key: &ContentKey,
    nonce_prefix: [u8; NONCE_PREFIX_LEN],
    chunk_size: u32,
    plaintext_len: u64,
    mut reader: R,
    mut writer: W,
) -> Result<Header, ContainerError> {
    let header = Header {
        chunk_size,
        plaintext_len,
        nonce_prefix,
        key_commitment: key.commitment(&nonce_prefix),
    };
    header.validate()?;
    let header_bytes = header.to_bytes();
    writer.write_all(&header_bytes)?;

    let cipher = key.cipher();
    let count = header.chunk_count();
    let mut buf = Vec::with_capacity(chunk_size as usize + TAG_LEN);
    for index in 0..count {
        let len = header.plaintext_chunk_len(index);
        buf.clear();
        buf.resize(len, 0);
        reader.read_exact(&mut buf).map_err(|e| {
            if e.kind() == ErrorKind::UnexpectedEof {
                std::io::Error::new(
                    ErrorKind::UnexpectedEof,
                    format!(
                        "the input ended inside chunk {index}, before the {plaintext_len} bytes announced"
                    ),
                )
            } else {
                e
            }
        })?;
        let last = index + 1 == count;
        // `validate` guarantees index < u32::MAX.
        let nonce = chunk_nonce(&nonce_prefix, index as u32, last);
        cipher
            .encrypt_in_place(&nonce, &header_bytes, &mut buf)
            .map_err(|_| ContainerError::BadHeader("a chunk is too large for AES-GCM"))?;
        writer.write_all(&buf)?;
    }
    // Do not leave the last plaintext chunk lying around in freed memory.
    buf.zeroize();
    writer.flush()?;
    Ok(header)
}

/// Decrypts the chunks of one container, in any order. Cheap to clone; `Send + Sync`, so one
/// opener can serve many concurrent range requests.
#[derive(Clone)]
pub struct Opener {
    header: Header,
    /// The encoded header: the associated data of every chunk.
    header_bytes: [u8; HEADER_LEN],
    cipher: Aes256Gcm,
}

impl Opener {
    /// Checks that `key` is the key the header commits to (in constant time) and prepares to
    /// open chunks. A key that does not match gives [`ContainerError::WrongKey`]; so does a
    /// header whose nonce prefix was altered, since the commitment covers it.
    pub fn new(key: &ContentKey, header: Header) -> Result<Opener, ContainerError> {
        header.validate()?;
        if !key.verify_commitment(&header.nonce_prefix, &header.key_commitment) {
            return Err(ContainerError::WrongKey);
        }
        Ok(Opener {
            header,
            header_bytes: header.to_bytes(),
            cipher: key.cipher(),
        })
    }

    /// The header this opener was built with.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// Opens chunk `index`. `sealed` must hold exactly that chunk's sealed bytes
    /// ([`Header::sealed_chunk_len`] of them, read from [`Header::chunk_offset`]). On success it
    /// is decrypted in place and truncated to the plaintext. On any error the buffer is wiped and
    /// emptied, so no unauthenticated bytes can be used by mistake.
    pub fn open_chunk(&self, index: u64, sealed: &mut Vec<u8>) -> Result<(), ContainerError> {
        let result = self.open_chunk_inner(index, sealed);
        if result.is_err() {
            sealed.zeroize();
        }
        result
    }

    fn open_chunk_inner(&self, index: u64, sealed: &mut Vec<u8>) -> Result<(), ContainerError> {
        let chunk_count = self.header.chunk_count();
        if index >= chunk_count {
            return Err(ContainerError::ChunkOutOfRange { index, chunk_count });
        }
        let expected = self.header.sealed_chunk_len(index);
        if sealed.len() < expected {
            return Err(ContainerError::Truncated { index });
        }
        if sealed.len() > expected {
            return Err(ContainerError::WrongChunkLength {
                index,
                expected,
                actual: sealed.len(),
            });
        }
        self.open_raw(index, index + 1 == chunk_count, sealed)
    }

    /// Decrypts with an explicit last-chunk flag. Private: callers always derive the flag from
    /// the header; tests use this to show that a chunk cannot pose as the last one.
    fn open_raw(&self, index: u64, last: bool, sealed: &mut Vec<u8>) -> Result<(), ContainerError> {
        let nonce = self.nonce(index, last)?;
        // aes-gcm checks the tag before decrypting, so on failure `sealed` still holds
        // ciphertext; `open_chunk` wipes it anyway so the promise does not depend on that detail.
        self.cipher
            .decrypt_in_place(&nonce, &self.header_bytes, sealed)
            .map_err(|_| ContainerError::ChunkAuthentication { index })
    }

    /// The nonce of chunk `index`; an index past `u32::MAX` cannot be one of this file's chunks
    /// (the header allows no more), so it is out of range rather than wrapped onto another.
    fn nonce(
        &self,
        index: u64,
        last: bool,
    ) -> Result<Nonce<aes_gcm::aead::consts::U12>, ContainerError> {
        let position = u32::try_from(index).map_err(|_| ContainerError::ChunkOutOfRange {
            index,
            chunk_count: self.header.chunk_count(),
        })?;
        Ok(chunk_nonce(&self.header.nonce_prefix, position, last))
    }

    /// Opens the consecutive chunks `chunks` (as [`Header::chunks_covering`] returns them) whose
    /// sealed bytes lie back to back in `sealed`, exactly as in the file from
    /// [`Header::chunk_offset`]`(first)`: one read serves the whole run. The plaintext goes
    /// straight into `out` (cleared first, then filled with the run's plaintext, contiguous):
    /// no tag gaps to squeeze out and no copy of the sealed bytes, since aes-gcm reads the
    /// ciphertext from `sealed` and writes the plaintext to `out` in the same pass.
    ///
    /// A run is spread over up to [`parallelism`] threads (the calling thread is one of them),
    /// each opening whole chunks, but over no more than one thread per
    /// [`PARALLEL_MIN_BYTES_PER_THREAD`] of `sealed`; see [`Opener::open_chunks_on`] to choose
    /// the number. It blocks until every chunk is done, so call it from a blocking context (in
    /// an async server, `spawn_blocking`). [`Opener::open_chunks_in_place`] is faster still
    /// when the caller can use the plaintext where it lies.
    ///
    /// The outcome is exactly that of opening the chunks one by one with
    /// [`Opener::open_chunk`], in order, each given its [`Header::sealed_chunk_len`] bytes and
    /// the last chunk all the bytes that remain: on success the same bytes; on failure the
    /// error of the first chunk that fails in that order (so a tampered chunk is named even if
    /// a later one is also bad, and a short `sealed` is [`ContainerError::Truncated`] naming the
    /// first incomplete chunk). All or nothing: on any error `out` is wiped and emptied, so
    /// neither the failing chunk nor its authentic neighbours can be used by mistake. An empty
    /// range opens nothing and leaves `out` empty.
    pub fn open_chunks(
        &self,
        chunks: RangeInclusive<u64>,
        sealed: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), ContainerError> {
        self.open_chunks_on(chunks, sealed, out, parallelism())
    }

    /// [`Opener::open_chunks`] on at most `threads` threads (`0` and `1` both mean the calling
    /// thread only). Still no more than one thread per [`PARALLEL_MIN_BYTES_PER_THREAD`] of
    /// `sealed`, and never more threads than chunks. The result does not depend on `threads`.
    pub fn open_chunks_on(
        &self,
        chunks: RangeInclusive<u64>,
        sealed: &[u8],
        out: &mut Vec<u8>,
        threads: usize,
    ) -> Result<(), ContainerError> {
        self.open_chunks_tuned(chunks, sealed, out, threads, PARALLEL_MIN_BYTES_PER_THREAD)
    }

    /// [`Opener::open_chunks_on`] with the per-thread minimum as a parameter, so that tests can
    /// drive the parallel path with small chunks.
    fn open_chunks_tuned(
        &self,
        chunks: RangeInclusive<u64>,
        sealed: &[u8],
        out: &mut Vec<u8>,
        threads: usize,
        min_bytes_per_thread: usize,
    ) -> Result<(), ContainerError> {
        out.clear();
        let result = self.open_chunks_inner(chunks, sealed, out, threads, min_bytes_per_thread);
        if result.is_err() {
            // Zeroes the whole allocation, authentic chunks included: all or nothing.
            out.zeroize();
        }
        result
    }

    fn open_chunks_inner(
        &self,
        chunks: RangeInclusive<u64>,
        sealed: &[u8],
        out: &mut Vec<u8>,
        threads: usize,
        min_bytes_per_thread: usize,
    ) -> Result<(), ContainerError> {
        let (plan, refused) = self.plan_run(chunks, sealed.len());
        // Zeros, not uninitialised memory: a chunk that fails is never written (aes-gcm checks
        // the tag before it decrypts), and its slot must not hold stale bytes either.
        out.resize(plan.iter().map(|&(_, len)| len - TAG_LEN).sum(), 0);
        let mut jobs = Vec::with_capacity(plan.len());
        let (mut input, mut free) = (sealed, out.as_mut_slice());
        for (index, len) in plan {
            let (this, rest) = input.split_at(len);
            let (slot, tail) = free.split_at_mut(len - TAG_LEN);
            jobs.push(Job {
                index,
                data: JobData::Into {
                    sealed: this,
                    out: slot,
                },
            });
            (input, free) = (rest, tail);
        }
        let workers = workers(threads, sealed.len(), min_bytes_per_thread, jobs.len());
        match (self.open_jobs(jobs, workers), refused) {
            (Some(err), _) | (None, Some(err)) => Err(err),
            (None, None) => Ok(()),
        }
    }

    /// Like [`Opener::open_chunks`], but decrypts in place in `sealed` and returns where each
    /// chunk's plaintext now lies in it (one range per chunk, in order; the tags between them
    /// are left as they were). This is the fastest way to open a run: aes-gcm reads and writes
    /// the same cache lines, where writing to a separate output costs a second stream of
    /// memory traffic (about 15% of the single-core figure in `benches/decrypt.rs`). Squeezing
    /// the tags out would cost a pass of its own, so it is left to the caller, who usually
    /// needs only slices anyway (an HTTP body can send each chunk's bytes as its own frame).
    ///
    /// Same rules as [`Opener::open_chunks`]: the same errors as opening the chunks one by one
    /// in order, spread over up to [`parallelism`] threads when long enough, and all or
    /// nothing: on any error the whole of `sealed` is zeroed, so neither the failing chunk nor
    /// its authentic neighbours can be used by mistake.
    pub fn open_chunks_in_place(
        &self,
        chunks: RangeInclusive<u64>,
        sealed: &mut [u8],
    ) -> Result<Vec<Range<usize>>, ContainerError> {
        self.open_chunks_in_place_on(chunks, sealed, parallelism())
    }

    /// [`Opener::open_chunks_in_place`] on at most `threads` threads; as for
    /// [`Opener::open_chunks_on`], the result does not depend on `threads`.
    pub fn open_chunks_in_place_on(
        &self,
        chunks: RangeInclusive<u64>,
        sealed: &mut [u8],
        threads: usize,
    ) -> Result<Vec<Range<usize>>, ContainerError> {
        self.open_chunks_in_place_tuned(chunks, sealed, threads, PARALLEL_MIN_BYTES_PER_THREAD)
    }

    fn open_chunks_in_place_tuned(
        &self,
        chunks: RangeInclusive<u64>,
        sealed: &mut [u8],
        threads: usize,
        min_bytes_per_thread: usize,
    ) -> Result<Vec<Range<usize>>, ContainerError> {
        let (plan, refused) = self.plan_run(chunks, sealed.len());
        let total = sealed.len();
        let mut ranges = Vec::with_capacity(plan.len());
        let mut jobs = Vec::with_capacity(plan.len());
        let (mut free, mut offset) = (&mut *sealed, 0);
        for (index, len) in plan {
            let (this, tail) = free.split_at_mut(len);
            ranges.push(offset..offset + len - TAG_LEN);
            jobs.push(Job {
                index,
                data: JobData::InPlace(this),
            });
            (free, offset) = (tail, offset + len);
        }
        let workers = workers(threads, total, min_bytes_per_thread, jobs.len());
        match (self.open_jobs(jobs, workers), refused) {
            (Some(err), _) | (None, Some(err)) => {
                // All or nothing: authentic chunks are plaintext by now, so wipe everything.
                sealed.zeroize();
                Err(err)
            }
            (None, None) => Ok(ranges),
        }
    }

    /// Cuts a run of `sealed_len` bytes into its chunks' sealed lengths, in order, exactly as
    /// the one-by-one path would hand them to [`Opener::open_chunk`] (the last chunk getting all
    /// that remains). A chunk whose bytes cannot be its own (out of range, too few, too many)
    /// ends the plan and its error is returned beside it; the chunks before it are still to be
    /// opened, because one of them failing authentication comes first in that order and wins.
    fn plan_run(
        &self,
        chunks: RangeInclusive<u64>,
        sealed_len: usize,
    ) -> (Vec<(u64, usize)>, Option<ContainerError>) {
        let mut plan = Vec::new();
        if chunks.is_empty() {
            return (plan, None);
        }
        let (first, last) = (*chunks.start(), *chunks.end());
        let chunk_count = self.header.chunk_count();
        let mut rest = sealed_len;
        for index in first..=last {
            if index >= chunk_count {
                return (
                    plan,
                    Some(ContainerError::ChunkOutOfRange { index, chunk_count }),
                );
            }
            let expected = self.header.sealed_chunk_len(index);
            if rest < expected {
                return (plan, Some(ContainerError::Truncated { index }));
            }
            if index == last && rest > expected {
                let actual = rest;
                return (
                    plan,
                    Some(ContainerError::WrongChunkLength {
                        index,
                        expected,
                        actual,
                    }),
                );
            }
            plan.push((index, expected));
            rest -= expected;
        }
        (plan, None)
    }

    /// Opens `jobs` (in increasing chunk order) on `workers` threads, the calling one included,
    /// and returns the error of the lowest-indexed chunk that failed.
    fn open_jobs(&self, jobs: Vec<Job<'_>>, workers: usize) -> Option<ContainerError> {
        let chunk_count = self.header.chunk_count();
        if workers <= 1 {
            // The calling thread alone: stop at the first failure, as the one-by-one path does.
            return jobs
                .into_iter()
                .map(|job| self.open_job(job, chunk_count))
                .find_map(Result::err);
        }
        // Chunks are handed out one at a time, in order, from a shared queue rather than cut
        // into one fixed share per thread: a core that the rest of the app (or the OS) keeps
        // busy then simply takes fewer chunks. One lock per 64 KiB chunk costs nothing beside
        // the tens of microseconds the chunk takes to open.
        let queue = Mutex::new(jobs.into_iter());
        let failure: Mutex<Option<(u64, ContainerError)>> = Mutex::new(None);
        let work = || loop {
            let Some(job) = queue.lock().unwrap_or_else(PoisonError::into_inner).next() else {
                return;
            };
            let index = job.index;
            // Jobs leave the queue in increasing order, so once a chunk has failed every chunk
            // still queued comes after it and its result would be discarded: stop.
            if failure
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .as_ref()
                .is_some_and(|(failed, _)| *failed < index)
            {
                return;
            }
            if let Err(err) = self.open_job(job, chunk_count) {
                let mut failure = failure.lock().unwrap_or_else(PoisonError::into_inner);
                // Keep the lowest index: that is the error the one-by-one path would report.
                if failure.as_ref().is_none_or(|(failed, _)| index < *failed) {
                    *failure = Some((index, err));
                }
            }
        };
        std::thread::scope(|scope| {
            for _ in 1..workers {
                scope.spawn(work);
            }
            work();
        });
        failure
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner)
            .map(|(_, err)| err)
    }

    /// Decrypts one chunk of a run, into its slot or in place.
    fn open_job(&self, job: Job<'_>, chunk_count: u64) -> Result<(), ContainerError> {
        let index = job.index;
        let nonce = self.nonce(index, index + 1 == chunk_count)?;
        let failed = |_| ContainerError::ChunkAuthentication { index };
        // The plan gave every job its exact sealed length, so these splits cannot fail.
        match job.data {
            JobData::Into { sealed, out } => {
                let (ciphertext, tag) = sealed.split_at(sealed.len() - TAG_LEN);
                let buffer = InOutBuf::new(ciphertext, out)
                    .map_err(|_| ContainerError::Truncated { index })?;
                let tag = tag
                    .try_into()
                    .map_err(|_| ContainerError::Truncated { index })?;
                self.cipher
                    .decrypt_inout_detached(&nonce, &self.header_bytes, buffer, tag)
                    .map_err(failed)
            }
            JobData::InPlace(sealed) => {
                let (ciphertext, tag) = sealed.split_at_mut(sealed.len() - TAG_LEN);
                let tag = (&*tag)
                    .try_into()
                    .map_err(|_| ContainerError::Truncated { index })?;
                self.cipher
                    .decrypt_inout_detached(&nonce, &self.header_bytes, ciphertext.into(), tag)
                    .map_err(failed)
            }
        }
    }
}

/// One chunk of a run ([`Opener::open_chunks`], [`Opener::open_chunks_in_place`]).
struct Job<'a> {
    index: u64,
    data: JobData<'a>,
}

/// Where a [`Job`]'s sealed bytes are and where its plaintext goes.
enum JobData<'a> {
    /// From the sealed bytes into a separate slot.
    Into { sealed: &'a [u8], out: &'a mut [u8] },
    /// Decrypted where they lie; the tag stays after the plaintext.
    InPlace(&'a mut [u8]),
}

/// How many threads open a run of `jobs` chunks, `sealed_len` bytes in all: at most
/// `threads`, one per `min_bytes_per_thread`, one per chunk, and at least the calling thread.
fn workers(threads: usize, sealed_len: usize, min_bytes_per_thread: usize, jobs: usize) -> usize {
    threads
        .min(sealed_len / min_bytes_per_thread.max(1))
        .min(jobs)
        .max(1)
}

/// The number of threads [`Opener::open_chunks`] spreads a long run over: the cores this
/// process may use ([`std::thread::available_parallelism`]), or 1 if that is unknown.
///
/// Looked up once and kept: on Linux the lookup reads the cgroup's CPU quota from files, which
/// would cost more than opening a small run.
pub fn parallelism() -> usize {
    static CORES: OnceLock<usize> = OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

impl std::fmt::Debug for Opener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Opener")
            .field("header", &self.header)
            .finish_non_exhaustive()
    }
}

/// Decrypts a whole container sequentially: reads the header, checks the key, then every chunk
/// in order, writing each chunk's plaintext only after its tag verified. Memory use is one chunk.
///
/// Refuses bytes after the last chunk ([`ContainerError::TrailingData`]). On error, the chunks
/// written so far were authentic but the output is incomplete: discard it.
pub fn decrypt<R: Read, W: Write>(
    key: &ContentKey,
    mut reader: R,
    mut writer: W,
) -> Result<Header, ContainerError> {
    let mut header_bytes = [0u8; HEADER_LEN];
    read_exact_or(&mut reader, &mut header_bytes, || {
        ContainerError::BadHeader("the file is shorter than a container header")
    })?;
    let header = Header::parse(&header_bytes)?;
    let opener = Opener::new(key, header)?;

    let mut buf = Vec::with_capacity(header.chunk_size as usize + TAG_LEN);
    for index in 0..header.chunk_count() {
        buf.clear();
        buf.resize(header.sealed_chunk_len(index), 0);
        read_exact_or(&mut reader, &mut buf, || ContainerError::Truncated {
            index,
        })?;
        opener.open_chunk(index, &mut buf)?;
        writer.write_all(&buf)?;
    }
    buf.zeroize();

    // The layout fixes the length; anything after the last chunk means the file was tampered
    // with or mixed up with another one.
    let mut probe = [0u8; 1];
    loop {
        match reader.read(&mut probe) {
            Ok(0) => break,
            Ok(_) => return Err(ContainerError::TrailingData),
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.into()),
        }
    }
    writer.flush()?;
    Ok(header)
}

/// `read_exact`, but an early end of input becomes the error `on_eof` builds.
fn read_exact_or<R: Read>(
    reader: &mut R,
    buf: &mut [u8],
    on_eof: impl FnOnce() -> ContainerError,
) -> Result<(), ContainerError> {
    match reader.read_exact(buf) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == ErrorKind::UnexpectedEof => Err(on_eof()),
        Err(e) => Err(e.into()),
    }
}

/// Why a container could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum ContainerError {
    /// The bytes do not start with [`MAGIC`].
    #[error("this is not a Marquee content file (it does not start with the Marquee marker)")]
    BadMagic,
    /// The header's version is not [`VERSION`].
    #[error("this content file uses format version {0}, which this version of Marquee cannot read; update Marquee")]
    UnsupportedVersion(u16),
    /// The header is inconsistent; the text says how.
    #[error("the content file header is invalid: {0}")]
    BadHeader(&'static str),
    /// The key does not match the header's key commitment.
    #[error("the content key does not belong to this file (or the file's header was altered)")]
    WrongKey,
    /// Chunk `index` did not authenticate: damaged, altered, moved or cut short.
    #[error("chunk {index} failed authentication: the file is damaged or was altered")]
    ChunkAuthentication {
        /// The chunk that failed.
        index: u64,
    },
    /// The input ended inside chunk `index`.
    #[error("the file ends inside chunk {index}: it is incomplete or was cut short")]
    Truncated {
        /// The chunk that is incomplete.
        index: u64,
    },
    /// A chunk index at or past the header's chunk count was asked for.
    #[error("chunk {index} does not exist: the file has {chunk_count} chunks")]
    ChunkOutOfRange {
        /// The index asked for.
        index: u64,
        /// The number of chunks in the file.
        chunk_count: u64,
    },
    /// [`Opener::open_chunk`] was given more bytes than the chunk holds.
    #[error("chunk {index} is {expected} bytes long but {actual} bytes were given")]
    WrongChunkLength {
        /// The chunk index.
        index: u64,
        /// Its sealed length according to the header.
        expected: usize,
        /// The length given.
        actual: usize,
    },
    /// Bytes follow the last chunk.
    #[error("the file has extra bytes after its last chunk: it is damaged or was altered")]
    TrailingData,
    /// Reading the input or writing the output failed.
    #[error("reading or writing the content failed: {0}")]
    Io(#[from] std::io::Error),
}

#[cfg(test)]
mod tests {
    use super::*;
    use aead_stream::{NewStream, StreamBE32, StreamPrimitive};
    use sha2::Digest;

    const CS: u32 = 4096; // small chunks keep the tests fast while covering many chunks

    fn pattern(len: usize) -> Vec<u8> {
        // A deterministic pattern with period 251 (prime), so chunks never look alike.
        (0..len).map(|i| ((i * 31 + 7) % 251) as u8).collect()
    }

    fn seal(key: &ContentKey, chunk_size: u32, plaintext: &[u8]) -> (Header, Vec<u8>) {
        let mut out = Vec::new();
        let header = encrypt_with(
            key,
            [9, 8, 7, 6, 5, 4, 3],
            chunk_size,
            plaintext.len() as u64,
            plaintext,
            &mut out,
        )
        .unwrap();
        (header, out)
    }

    fn sealed_chunk(header: &Header, container: &[u8], index: u64) -> Vec<u8> {
        let off = header.chunk_offset(index) as usize;
        container[off..off + header.sealed_chunk_len(index)].to_vec()
    }

    #[test]
    fn round_trip_at_chunk_boundaries() {
        let key = ContentKey::generate();
        let cs = CS as usize;
        for len in [0, 1, cs - 1, cs, cs + 1, cs * 7 / 2] {
            let plaintext = pattern(len);
            let mut container = Vec::new();
            let header = encrypt_with(
                &key,
                [1; 7],
                CS,
                len as u64,
                plaintext.as_slice(),
                &mut container,
            )
            .unwrap();
            assert_eq!(container.len() as u64, header.container_len(), "len {len}");
            assert_eq!(
                header.chunk_count(),
                (len as u64).div_ceil(CS as u64).max(1),
                "len {len}"
            );
            let mut out = Vec::new();
            let parsed = decrypt(&key, container.as_slice(), &mut out).unwrap();
            assert_eq!(parsed, header);
            assert_eq!(out, plaintext, "len {len}");
        }
    }

    #[test]
    fn default_encrypt_uses_random_prefix_and_default_chunks() {
        let key = ContentKey::generate();
        let plaintext = pattern(200_000);
        let (mut a, mut b) = (Vec::new(), Vec::new());
        let ha = encrypt(&key, 200_000, plaintext.as_slice(), &mut a).unwrap();
        let hb = encrypt(&key, 200_000, plaintext.as_slice(), &mut b).unwrap();
        assert_eq!(ha.chunk_size, DEFAULT_CHUNK_SIZE);
        assert_eq!(ha.chunk_count(), 4);
        assert_ne!(ha.nonce_prefix, hb.nonce_prefix);
        assert_ne!(a, b);
        let mut out = Vec::new();
        decrypt(&key, a.as_slice(), &mut out).unwrap();
        assert_eq!(out, plaintext);
    }

    #[test]
    fn empty_file_has_one_tag_only_chunk() {
        let key = ContentKey::generate();
        let (header, container) = seal(&key, CS, &[]);
        assert_eq!(header.chunk_count(), 1);
        assert_eq!(header.sealed_chunk_len(0), TAG_LEN);
        assert_eq!(container.len(), HEADER_LEN + TAG_LEN);
        // Cutting off the tag is detected.
        let err = decrypt(&key, &container[..HEADER_LEN], &mut Vec::new()).unwrap_err();
        assert!(
            matches!(err, ContainerError::Truncated { index: 0 }),
            "{err}"
        );
    }

    #[test]
    fn random_ranges_decrypt_only_covering_chunks() {
        let key = ContentKey::generate();
        let plaintext = pattern(CS as usize * 9 + 123);
        let (header, container) = seal(&key, CS, &plaintext);
        let opener = Opener::new(&key, header).unwrap();
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        use rand::{Rng, SeedableRng};
        for _ in 0..300 {
            let a = rng.gen_range(0..plaintext.len() as u64);
            let b = rng.gen_range(a..plaintext.len() as u64);
            let chunks = header.chunks_covering(a, b);
            // Build a view of the container where every chunk outside the range is garbage:
            // success then proves only covering chunks were touched.
            let mut poisoned = vec![0xAAu8; container.len()];
            poisoned[..HEADER_LEN].copy_from_slice(&container[..HEADER_LEN]);
            for i in chunks.clone() {
                let off = header.chunk_offset(i) as usize;
                let len = header.sealed_chunk_len(i);
                poisoned[off..off + len].copy_from_slice(&container[off..off + len]);
            }
            let mut got = Vec::new();
            for i in chunks.clone() {
                let mut buf = sealed_chunk(&header, &poisoned, i);
                opener.open_chunk(i, &mut buf).unwrap();
                let chunk_start = header.plaintext_offset(i);
                let from = a.saturating_sub(chunk_start) as usize;
                let to = ((b + 1 - chunk_start) as usize).min(buf.len());
                got.extend_from_slice(&buf[from..to]);
            }
            assert_eq!(got, &plaintext[a as usize..=b as usize], "range {a}..={b}");
        }
    }

    /// The reference `open_chunks` must match: [`Opener::open_chunk`] on each chunk in order,
    /// each given its sealed length (the last one all that remains), stopping at the first error.
    fn open_one_by_one(
        opener: &Opener,
        chunks: RangeInclusive<u64>,
        sealed: &[u8],
    ) -> Result<Vec<u8>, ContainerError> {
        let last = *chunks.end();
        let mut out = Vec::new();
        let mut rest = sealed;
        for index in chunks {
            let len = if index == last {
                rest.len()
            } else {
                opener.header().sealed_chunk_len(index).min(rest.len())
            };
            let mut buf = rest[..len].to_vec();
            rest = &rest[len..];
            opener.open_chunk(index, &mut buf)?;
            out.extend_from_slice(&buf);
        }
        Ok(out)
    }

    /// The sealed bytes of chunks `chunks`, back to back, as one read of the file gives them.
    fn sealed_run(header: &Header, container: &[u8], chunks: &RangeInclusive<u64>) -> Vec<u8> {
        let start = header.chunk_offset(*chunks.start()) as usize;
        let end = (header.chunk_offset(*chunks.end()) as usize
            + header.sealed_chunk_len(*chunks.end()))
        .min(container.len());
        container[start.min(end)..end].to_vec()
    }

    /// `open_chunks` and `open_chunks_in_place` on 1, 2, 3 and 8 threads, each forced to spread
    /// even tiny runs. Checks on the way that a failure releases nothing.
    fn open_every_way(
        opener: &Opener,
        chunks: &RangeInclusive<u64>,
        sealed: &[u8],
    ) -> Vec<Result<Vec<u8>, ContainerError>> {
        let mut results = Vec::new();
        for threads in [1, 2, 3, 8] {
            // Stale bytes from an earlier use must not survive.
            let mut out = vec![0xEE; 100];
            let result = opener.open_chunks_tuned(chunks.clone(), sealed, &mut out, threads, 1);
            if result.is_err() {
                assert!(
                    out.is_empty(),
                    "{threads} threads: a failed run leaves nothing"
                );
            }
            results.push(result.map(|()| out));

            let mut buf = sealed.to_vec();
            let result = opener.open_chunks_in_place_tuned(chunks.clone(), &mut buf, threads, 1);
            if result.is_err() {
                assert!(
                    buf.iter().all(|&b| b == 0),
                    "{threads} threads: a failed run in place is wiped"
                );
            }
            results.push(result.map(|ranges| {
                let mut pos = 0;
                for (k, r) in ranges.iter().enumerate() {
                    // Chunk k of the run, in its own place: right after the previous tag.
                    assert_eq!(r.start, pos, "chunk {k} of the run");
                    pos = r.end + TAG_LEN;
                }
                ranges.into_iter().flat_map(|r| buf[r].to_vec()).collect()
            }));
        }
        results
    }

    /// Same bytes, or the same error (compared through its message, which names the chunk).
    fn assert_same(
        want: &Result<Vec<u8>, ContainerError>,
        got: &Result<Vec<u8>, ContainerError>,
        what: &str,
    ) {
        match (want, got) {
            (Ok(a), Ok(b)) => assert!(a == b, "{what}: different bytes"),
            (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "{what}"),
            (a, b) => panic!(
                "{what}: one by one {:?}, run {:?}",
                a.as_ref().map(Vec::len),
                b.as_ref().map(Vec::len)
            ),
        }
    }

    #[test]
    fn open_chunks_gives_the_same_bytes_as_one_by_one() {
        let key = ContentKey::generate();
        let plaintext = pattern(CS as usize * 9 + 123);
        let (header, container) = seal(&key, CS, &plaintext);
        let opener = Opener::new(&key, header).unwrap();
        let mut rng = rand::rngs::StdRng::seed_from_u64(11);
        use rand::{Rng, SeedableRng};
        let mut ranges = vec![0..=0, 0..=9, 9..=9, 3..=6, 8..=9];
        for _ in 0..40 {
            let a = rng.gen_range(0..10u64);
            ranges.push(a..=rng.gen_range(a..10));
        }
        for chunks in ranges {
            let sealed = sealed_run(&header, &container, &chunks);
            let want = open_one_by_one(&opener, chunks.clone(), &sealed);
            let start = header.plaintext_offset(*chunks.start()) as usize;
            let end = (header.plaintext_offset(*chunks.end() + 1) as usize).min(plaintext.len());
            assert_eq!(want.as_ref().unwrap(), &plaintext[start..end]);
            for got in open_every_way(&opener, &chunks, &sealed) {
                assert_same(&want, &got, &format!("{chunks:?}"));
            }
        }
        // The single, tag-only chunk of an empty file.
        let (empty_header, empty) = seal(&key, CS, &[]);
        let empty_opener = Opener::new(&key, empty_header).unwrap();
        for got in open_every_way(&empty_opener, &(0..=0), &empty[HEADER_LEN..]) {
            assert_eq!(got.unwrap(), Vec::<u8>::new());
        }
        // The public entry points: an empty range opens nothing; a run long enough to be
        // spread really is, and still gives the same bytes.
        let mut out = vec![1, 2, 3];
        #[allow(clippy::reversed_empty_ranges)] // deliberately empty
        opener.open_chunks(1..=0, &[], &mut out).unwrap();
        assert!(out.is_empty());
        let big = pattern(PARALLEL_MIN_BYTES_PER_THREAD * 3);
        let (big_header, big_container) = seal(&key, CS, &big);
        let big_opener = Opener::new(&key, big_header).unwrap();
        let all = 0..=big_header.chunk_count() - 1;
        for threads in [1, 2, 4] {
            big_opener
                .open_chunks_on(all.clone(), &big_container[HEADER_LEN..], &mut out, threads)
                .unwrap();
            assert!(out == big, "{threads} threads");
        }
        big_opener
            .open_chunks(all.clone(), &big_container[HEADER_LEN..], &mut out)
            .unwrap();
        assert!(out == big);
        let mut in_place = big_container[HEADER_LEN..].to_vec();
        let ranges = big_opener
            .open_chunks_in_place(all.clone(), &mut in_place)
            .unwrap();
        assert_eq!(ranges.len() as u64, big_header.chunk_count());
        let joined: Vec<u8> = ranges
            .into_iter()
            .flat_map(|r| in_place[r].to_vec())
            .collect();
        assert!(joined == big);
        // A tampered chunk in the middle of a spread run: named, and the buffer wiped.
        let mut in_place = big_container[HEADER_LEN..].to_vec();
        let middle = big_header.chunk_count() / 2;
        in_place[(big_header.chunk_offset(middle) as usize - HEADER_LEN) + 9] ^= 1;
        let err = big_opener
            .open_chunks_in_place_on(all, &mut in_place, 2)
            .unwrap_err();
        assert!(
            matches!(err, ContainerError::ChunkAuthentication { index } if index == middle),
            "{err}"
        );
        assert!(in_place.iter().all(|&b| b == 0));
    }

    #[test]
    fn open_chunks_refuses_a_tampered_chunk_by_name() {
        let key = ContentKey::generate();
        let plaintext = pattern(CS as usize * 8 - 7);
        let (header, container) = seal(&key, CS, &plaintext);
        let opener = Opener::new(&key, header).unwrap();
        let all = 0..=header.chunk_count() - 1;
        let sealed = sealed_run(&header, &container, &all);
        let at = |index: u64, pos: usize| {
            (header.chunk_offset(index) - header.chunk_offset(0)) as usize + pos
        };
        let mut cases: Vec<(&str, Vec<u8>, u64)> = Vec::new();
        for index in all.clone() {
            // A flipped bit in the ciphertext, and in the tag, of each chunk in turn (the
            // middle ones being the case that matters: authentic chunks on both sides).
            for pos in [0, header.sealed_chunk_len(index) - 1] {
                let mut bad = sealed.clone();
                bad[at(index, pos)] ^= 0x10;
                cases.push(("one chunk", bad, index));
            }
        }
        // Two bad chunks: the first one is named, whichever thread gets to which first.
        let mut bad = sealed.clone();
        bad[at(3, 5)] ^= 1;
        bad[at(6, 5)] ^= 1;
        cases.push(("two chunks", bad, 3));
        // Two chunks swapped: the first of them is named.
        let mut bad = sealed.clone();
        let len = CS as usize + TAG_LEN;
        let second = bad[at(2, 0)..at(2, 0) + len].to_vec();
        bad.copy_within(at(1, 0)..at(1, 0) + len, at(2, 0));
        bad[at(1, 0)..at(1, 0) + len].copy_from_slice(&second);
        cases.push(("swapped", bad, 1));

        for (what, bad, index) in cases {
            let want = open_one_by_one(&opener, all.clone(), &bad);
            assert!(
                matches!(want, Err(ContainerError::ChunkAuthentication { index: i }) if i == index),
                "{what} {index}"
            );
            for got in open_every_way(&opener, &all, &bad) {
                assert_same(&want, &got, &format!("{what} {index}"));
            }
        }
    }

    #[test]
    fn open_chunks_refuses_wrong_lengths_like_one_by_one() {
        let key = ContentKey::generate();
        let plaintext = pattern(CS as usize * 5 + 100);
        let (header, container) = seal(&key, CS, &plaintext);
        let opener = Opener::new(&key, header).unwrap();
        let run = 1..=4;
        let sealed = sealed_run(&header, &container, &run);
        let chunk = CS as usize + TAG_LEN;
        let mut cases: Vec<(&str, RangeInclusive<u64>, Vec<u8>)> = vec![
            (
                "cut inside the last chunk",
                run.clone(),
                sealed[..sealed.len() - 1].to_vec(),
            ),
            (
                "cut inside chunk 2",
                run.clone(),
                sealed[..chunk + 10].to_vec(),
            ),
            (
                "cut at the end of chunk 2",
                run.clone(),
                sealed[..chunk * 2].to_vec(),
            ),
            ("nothing at all", run.clone(), Vec::new()),
            ("a byte too many", run.clone(), [&sealed[..], &[0]].concat()),
            (
                "past the last chunk",
                4..=7,
                sealed_run(&header, &container, &(4..=5)),
            ),
            ("wholly past the end", 6..=7, Vec::new()),
        ];
        // A tampered chunk before the cut is named first, as reading in order would find it.
        let mut bad = sealed[..chunk * 3 - 1].to_vec();
        bad[chunk + 3] ^= 4;
        cases.push(("tampered, then cut", run.clone(), bad));
        // The same tamper after the cut is never reached: the cut is reported.
        let mut bad = sealed[..chunk * 2 + 9].to_vec();
        bad[chunk * 2 + 3] ^= 4;
        cases.push(("cut, tamper inside the cut chunk", run.clone(), bad));

        for (what, chunks, bytes) in cases {
            let want = open_one_by_one(&opener, chunks.clone(), &bytes);
            assert!(want.is_err(), "{what}");
            for got in open_every_way(&opener, &chunks, &bytes) {
                assert_same(&want, &got, what);
            }
        }
        // Spot checks of which error that is.
        let mut out = Vec::new();
        let err = opener
            .open_chunks_on(run.clone(), &sealed[..chunk + 10], &mut out, 2)
            .unwrap_err();
        assert!(
            matches!(err, ContainerError::Truncated { index: 2 }),
            "{err}"
        );
        let err = opener
            .open_chunks_on(
                4..=7,
                &sealed_run(&header, &container, &(4..=5)),
                &mut out,
                2,
            )
            .unwrap_err();
        assert!(
            matches!(
                err,
                ContainerError::ChunkOutOfRange {
                    index: 6,
                    chunk_count: 6
                }
            ),
            "{err}"
        );
        let err = opener
            .open_chunks_on(run, &[&sealed[..], &[0]].concat(), &mut out, 2)
            .unwrap_err();
        assert!(
            matches!(err, ContainerError::WrongChunkLength { index: 4, .. }),
            "{err}"
        );
        assert!(out.is_empty());
    }

    #[test]
    fn chunks_covering_edges() {
        let header = Header {
            chunk_size: CS,
            plaintext_len: CS as u64 * 3 + 10,
            nonce_prefix: [0; 7],
            key_commitment: [0; 32],
        };
        assert_eq!(header.chunk_count(), 4);
        assert_eq!(header.chunks_covering(0, 0), 0..=0);
        assert_eq!(header.chunks_covering(0, CS as u64 - 1), 0..=0);
        assert_eq!(header.chunks_covering(CS as u64 - 1, CS as u64), 0..=1);
        assert_eq!(header.chunks_covering(CS as u64 * 3, u64::MAX), 3..=3);
        assert!(header.chunks_covering(5, 4).is_empty());
        assert_eq!(header.plaintext_chunk_len(3), 10);
        assert_eq!(header.sealed_chunk_len(3), 10 + TAG_LEN);
        assert_eq!(header.plaintext_chunk_len(4), 0);
        assert_eq!(header.sealed_chunk_len(4), 0);
        assert_eq!(
            header.chunk_offset(2),
            (HEADER_LEN + 2 * (CS as usize + TAG_LEN)) as u64
        );
        assert_eq!(header.container_len(), header.chunk_offset(3) + 10 + 16);
    }

    #[test]
    fn truncation_is_detected() {
        let key = ContentKey::generate();
        let plaintext = pattern(CS as usize * 3);
        let (header, container) = seal(&key, CS, &plaintext);
        let opener = Opener::new(&key, header).unwrap();

        // Dropping the last chunk: the sequential reader notices the missing bytes.
        let cut = &container[..header.chunk_offset(2) as usize];
        let err = decrypt(&key, cut, &mut Vec::new()).unwrap_err();
        assert!(
            matches!(err, ContainerError::Truncated { index: 2 }),
            "{err}"
        );

        // Even if the header did not give it away, chunk 1 cannot pose as the last chunk: its
        // nonce was sealed with the last flag 0.
        let mut chunk1 = sealed_chunk(&header, &container, 1);
        let err = opener.open_raw(1, true, &mut chunk1).unwrap_err();
        assert!(
            matches!(err, ContainerError::ChunkAuthentication { index: 1 }),
            "{err}"
        );

        // Cutting the file and rewriting the header to match: the header is authenticated with
        // every chunk, so chunk 0 already fails.
        let mut forged = cut.to_vec();
        let short = Header {
            plaintext_len: CS as u64 * 2,
            ..header
        };
        forged[..HEADER_LEN].copy_from_slice(&short.to_bytes());
        let err = decrypt(&key, forged.as_slice(), &mut Vec::new()).unwrap_err();
        assert!(
            matches!(err, ContainerError::ChunkAuthentication { index: 0 }),
            "{err}"
        );
        assert_eq!(
            err.to_string(),
            "chunk 0 failed authentication: the file is damaged or was altered"
        );

        // A short buffer handed to open_chunk.
        let mut short_buf = sealed_chunk(&header, &container, 2);
        short_buf.pop();
        let err = opener.open_chunk(2, &mut short_buf).unwrap_err();
        assert!(
            matches!(err, ContainerError::Truncated { index: 2 }),
            "{err}"
        );
        assert!(short_buf.is_empty());
    }

    #[test]
    fn reordered_chunks_are_refused() {
        let key = ContentKey::generate();
        let plaintext = pattern(CS as usize * 3);
        let (header, mut container) = seal(&key, CS, &plaintext);
        let (o0, o1) = (
            header.chunk_offset(0) as usize,
            header.chunk_offset(1) as usize,
        );
        let len = header.sealed_chunk_len(0);
        let first = container[o0..o0 + len].to_vec();
        container.copy_within(o1..o1 + len, o0);
        container[o1..o1 + len].copy_from_slice(&first);

        let err = decrypt(&key, container.as_slice(), &mut Vec::new()).unwrap_err();
        assert!(
            matches!(err, ContainerError::ChunkAuthentication { index: 0 }),
            "{err}"
        );
        let opener = Opener::new(&key, header).unwrap();
        let mut buf = sealed_chunk(&header, &container, 1);
        let err = opener.open_chunk(1, &mut buf).unwrap_err();
        assert!(
            matches!(err, ContainerError::ChunkAuthentication { index: 1 }),
            "{err}"
        );
        assert!(buf.is_empty(), "a failed chunk leaves nothing behind");
    }

    #[test]
    fn flipped_bit_in_a_chunk_names_the_chunk() {
        let key = ContentKey::generate();
        let plaintext = pattern(CS as usize * 5 / 2);
        let (header, container) = seal(&key, CS, &plaintext);
        for index in 0..header.chunk_count() {
            // Flip a bit in the ciphertext and, separately, in the tag.
            for pos in [0, header.sealed_chunk_len(index) - 1] {
                let mut bad = container.clone();
                bad[header.chunk_offset(index) as usize + pos] ^= 0x10;
                let err = decrypt(&key, bad.as_slice(), &mut Vec::new()).unwrap_err();
                match err {
                    ContainerError::ChunkAuthentication { index: i } => assert_eq!(i, index),
                    other => panic!("unexpected {other}"),
                }
                assert!(err_string(&key, &bad).starts_with(&format!("chunk {index} failed")));
            }
        }
    }

    fn err_string(key: &ContentKey, bytes: &[u8]) -> String {
        decrypt(key, bytes, &mut Vec::new())
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn every_header_bit_is_protected() {
        let key = ContentKey::generate();
        let plaintext = pattern(CS as usize + 5);
        let (_, container) = seal(&key, CS, &plaintext);
        for bit in 0..HEADER_LEN * 8 {
            let mut bad = container.clone();
            bad[bit / 8] ^= 1 << (bit % 8);
            let err = decrypt(&key, bad.as_slice(), &mut Vec::new())
                .expect_err(&format!("header bit {bit} flipped but the file opened"));
            // Which error depends on the field; each must be one of these.
            assert!(
                matches!(
                    err,
                    ContainerError::BadMagic
                        | ContainerError::UnsupportedVersion(_)
                        | ContainerError::BadHeader(_)
                        | ContainerError::WrongKey
                        | ContainerError::ChunkAuthentication { index: 0 }
                        | ContainerError::Truncated { .. }
                        | ContainerError::TrailingData
                ),
                "bit {bit}: {err}"
            );
        }
        // Spot checks of the specific errors.
        let mut bad = container.clone();
        bad[0] ^= 1;
        assert!(matches!(
            decrypt(&key, bad.as_slice(), &mut Vec::new()),
            Err(ContainerError::BadMagic)
        ));
        let mut bad = container.clone();
        bad[OFF_VERSION + 1] = 2;
        assert!(matches!(
            decrypt(&key, bad.as_slice(), &mut Vec::new()),
            Err(ContainerError::UnsupportedVersion(2))
        ));
        let mut bad = container.clone();
        bad[OFF_NONCE_PREFIX] ^= 1;
        assert!(matches!(
            decrypt(&key, bad.as_slice(), &mut Vec::new()),
            Err(ContainerError::WrongKey)
        ));
        let mut bad = container.clone();
        bad[OFF_RESERVED] = 1;
        assert!(matches!(
            decrypt(&key, bad.as_slice(), &mut Vec::new()),
            Err(ContainerError::BadHeader(_))
        ));
    }

    #[test]
    fn wrong_key_is_refused_up_front() {
        let key = ContentKey::generate();
        let (header, container) = seal(&key, CS, &pattern(10_000));
        let other = ContentKey::generate();
        assert!(matches!(
            Opener::new(&other, header),
            Err(ContainerError::WrongKey)
        ));
        assert!(matches!(
            decrypt(&other, container.as_slice(), &mut Vec::new()),
            Err(ContainerError::WrongKey)
        ));
        // Forging the commitment for the other key does not help: the header is part of every
        // chunk's associated data, and the chunks were sealed under the real key anyway.
        let mut forged = container.clone();
        let fake = Header {
            key_commitment: other.commitment(&header.nonce_prefix),
            ..header
        };
        forged[..HEADER_LEN].copy_from_slice(&fake.to_bytes());
        let err = decrypt(&other, forged.as_slice(), &mut Vec::new()).unwrap_err();
        assert!(
            matches!(err, ContainerError::ChunkAuthentication { index: 0 }),
            "{err}"
        );
    }

    #[test]
    fn misc_refusals() {
        let key = ContentKey::generate();
        let (header, container) = seal(&key, CS, &pattern(100));
        let mut longer = container.clone();
        longer.push(0);
        assert!(matches!(
            decrypt(&key, longer.as_slice(), &mut Vec::new()),
            Err(ContainerError::TrailingData)
        ));
        assert!(matches!(
            decrypt(&key, &container[..10], &mut Vec::new()),
            Err(ContainerError::BadHeader(_))
        ));
        let opener = Opener::new(&key, header).unwrap();
        let mut buf = vec![0; 10];
        assert!(matches!(
            opener.open_chunk(1, &mut buf),
            Err(ContainerError::ChunkOutOfRange {
                index: 1,
                chunk_count: 1
            })
        ));
        let mut buf = sealed_chunk(&header, &container, 0);
        buf.push(0);
        assert!(matches!(
            opener.open_chunk(0, &mut buf),
            Err(ContainerError::WrongChunkLength { index: 0, .. })
        ));
        for bad_size in [0, MIN_CHUNK_SIZE - 1, MAX_CHUNK_SIZE + 1] {
            let err = encrypt_with(&key, [0; 7], bad_size, 0, &[][..], Vec::new()).unwrap_err();
            assert!(matches!(err, ContainerError::BadHeader(_)), "{err}");
        }
        // More than u32::MAX chunks.
        let huge = Header {
            chunk_size: MIN_CHUNK_SIZE,
            plaintext_len: u64::from(MIN_CHUNK_SIZE) * (u64::from(u32::MAX) + 1),
            ..header
        };
        assert!(matches!(
            Header::parse(&huge.to_bytes()),
            Err(ContainerError::BadHeader(_))
        ));
        // Input shorter than announced.
        let err = encrypt_with(&key, [0; 7], CS, 100, &[0u8; 50][..], Vec::new()).unwrap_err();
        match err {
            ContainerError::Io(e) => assert_eq!(e.kind(), ErrorKind::UnexpectedEof),
            other => panic!("unexpected {other}"),
        }
    }

    #[test]
    fn header_round_trips_and_key_debug_is_redacted() {
        let key = ContentKey::from_bytes([0x5a; 32]);
        let header = Header {
            chunk_size: DEFAULT_CHUNK_SIZE,
            plaintext_len: 123_456_789,
            nonce_prefix: [1, 2, 3, 4, 5, 6, 7],
            key_commitment: key.commitment(&[1, 2, 3, 4, 5, 6, 7]),
        };
        assert_eq!(Header::parse(&header.to_bytes()).unwrap(), header);
        let dbg = format!("{key:?}");
        assert!(!dbg.contains("5a") && !dbg.contains("90"), "{dbg}");
        assert!(key.verify_commitment(&header.nonce_prefix, &header.key_commitment));
        assert!(!key.verify_commitment(&[0; 7], &header.key_commitment));
        // Opener is shareable across threads.
        fn assert_send_sync<T: Send + Sync + Clone>() {}
        assert_send_sync::<Opener>();
    }

    #[test]
    fn nonce_layout_matches_stream_be32() {
        // Our explicit nonce must be exactly the STREAM construction's StreamBE32 (in aead's
        // `stream` module up to aes-gcm 0.10, in the `aead-stream` crate since 0.11).
        let key = ContentKey::from_bytes([3; 32]);
        let prefix = [1, 2, 3, 4, 5, 6, 7];
        let stream = StreamBE32::from_aead(key.cipher(), (&prefix).into());
        for (index, last) in [
            (0u32, false),
            (1, true),
            (0x0102_0304, false),
            (u32::MAX - 1, true),
        ] {
            let mut ours = b"some chunk".to_vec();
            let mut theirs = ours.clone();
            key.cipher()
                .encrypt_in_place(&chunk_nonce(&prefix, index, last), b"aad", &mut ours)
                .unwrap();
            stream
                .encrypt_in_place(index, last, b"aad", &mut theirs)
                .unwrap();
            assert_eq!(ours, theirs);
        }
    }

    /// The container test vector printed in the crate docs.
    #[test]
    fn container_test_vector() {
        let key = ContentKey::from_bytes(core::array::from_fn(|i| i as u8));
        let plaintext = pattern(100 * 1024);
        let mut container = Vec::new();
        let header = encrypt_with(
            &key,
            [0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6],
            DEFAULT_CHUNK_SIZE,
            plaintext.len() as u64,
            plaintext.as_slice(),
            &mut container,
        )
        .unwrap();
        assert_eq!(header.chunk_count(), 2);
        assert_eq!(container.len(), 64 + 65536 + 16 + 36864 + 16);
        let hex_sha = |b: &[u8]| hex::encode(Sha256::digest(b));
        assert_eq!(
            hex::encode(header.key_commitment),
            "901cbcc963f7cb8b56cd21b329245e5dd0e379d510caf7a7bf66c4c62a207b6d"
        );
        assert_eq!(
            hex::encode(&container[..HEADER_LEN]),
            concat!(
                "4d5251434f4e5431", // magic "MRQCONT1"
                "0001",             // version 1
                "00010000",         // chunk size 65536
                "0000000000019000", // plaintext length 102400
                "a0a1a2a3a4a5a6",   // nonce prefix
                "901cbcc963f7cb8b56cd21b329245e5dd0e379d510caf7a7bf66c4c62a207b6d",
                "000000", // reserved
            )
        );
        assert_eq!(
            hex::encode(&container[container.len() - TAG_LEN..]),
            "f929da2c0b4eb5558acf0f751caca97f"
        );
        assert_eq!(
            hex_sha(&container[..HEADER_LEN]),
            "30252c7b7d0c71780f2b29766d390c377892e33e96afc96cda35a8ed234b14a1"
        );
        assert_eq!(
            hex_sha(&container),
            "b11f0b421e600b96e4f045f579e92b771ad896bf0956e8a44eb11b761e26eaf9"
        );
        let mut out = Vec::new();
        decrypt(&key, container.as_slice(), &mut out).unwrap();
        assert_eq!(out, plaintext);
    }
}
