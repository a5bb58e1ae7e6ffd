//! The only writer of `ctx->out`: PostgreSQL's OutputPluginPrepareWrite /
//! OutputPluginWrite discipline behind the formats' `Sink`, with the 1 GB
//! message limit checked before the buffer grows.

use crate::format::{Oversize, Piece, Sink};
use pgrx::pg_sys;
use pgrx::{PgLogLevel, PgSqlErrorCode};

/// What `ctx->out` can hold: PostgreSQL's MaxAllocSize (1 GB - 1), less room
/// for the walsender's message header.
const OUT_LIMIT: usize = 0x3fff_ffff - 64;

/// The memory context current while PostgreSQL takes a message: the SQL
/// functions copy every message there (as a text datum for their result
/// rows). Reset once `WRITES_RESET_BYTES` have been written rather than
/// after every message, which saves a reset (and a guarded call) per change
/// while keeping the memory bounded (and the reused memory in cache).
const WRITES_RESET_BYTES: usize = 1 << 16;

/// A session's output state, kept between callbacks.
pub struct Output {
    /// The piece being built (reused; keeps its capacity).
    buf: Vec<u8>,
    writes_cxt: pg_sys::MemoryContext,
    since_reset: usize,
    /// What the open message (if any) is called in an oversize ERROR.
    open: Option<&'static Oversize>,
    /// A transaction's opening pieces, held back until something else is
    /// written in it (include-empty-transaction=0): dropped if nothing is.
    held: Option<Vec<(Piece, Vec<u8>)>>,
    /// Pieces sent now are held (the transaction's opening is being written).
    capturing: bool,
}

impl Output {
    /// # Safety
    /// `parent` is the decoding context's memory context.
    pub unsafe fn new(parent: pg_sys::MemoryContext) -> Output {
        Output {
            buf: Vec::with_capacity(8192),
            writes_cxt: pg_sys::AllocSetContextCreateExtended(
                parent,
                c"waljson writes".as_ptr(),
                pg_sys::ALLOCSET_DEFAULT_MINSIZE as usize,
                pg_sys::ALLOCSET_DEFAULT_INITSIZE as usize,
                pg_sys::ALLOCSET_DEFAULT_MAXSIZE as usize,
            ),
            since_reset: 0,
            open: None,
            held: None,
            capturing: false,
        }
    }

    /// Holds back what is sent until `end_capture`, and then until the next
    /// piece sent (which releases them first) or `discard_held`.
    pub fn start_capture(&mut self) {
        self.held = Some(Vec::new());
        self.capturing = true;
    }

    pub fn end_capture(&mut self) {
        self.capturing = false;
    }

    /// Drops the held pieces; true if there were any held (nothing was
    /// written since `start_capture`).
    pub fn discard_held(&mut self) -> bool {
        self.capturing = false;
        self.held.take().is_some()
    }

    /// The sink for one callback.
    ///
    /// # Safety
    /// `ctx` is the current callback's decoding context (a begin, change,
    /// commit, truncate or message callback, where writing is allowed).
    pub unsafe fn sink(&mut self, ctx: *mut pg_sys::LogicalDecodingContext) -> OutSink<'_> {
        OutSink { ctx, out: self }
    }
}

/// Writes to `ctx->out` during one callback.
pub struct OutSink<'a> {
    ctx: *mut pg_sys::LogicalDecodingContext,
    out: &'a mut Output,
}

impl Sink for OutSink<'_> {
    #[inline(always)]
    fn buf(&mut self) -> &mut Vec<u8> {
        self.out.buf.clear();
        &mut self.out.buf
    }

    fn send(&mut self, piece: Piece) {
        if self.out.capturing {
            let bytes = self.out.buf.clone();
            self.out.held.get_or_insert_with(Vec::new).push((piece, bytes));
            return;
        }
        if let Some(held) = self.out.held.take() {
            let current = std::mem::take(&mut self.out.buf);
            for (p, bytes) in held {
                self.out.buf = bytes;
                // SAFETY: as below; the held pieces open what follows.
                unsafe { self.write(p) }
            }
            self.out.buf = current;
        }
        // SAFETY: `ctx` is the current callback's (see `Output::sink`); a
        // format opens a message before it appends to or closes it.
        unsafe { self.write(piece) }
    }
}

impl OutSink<'_> {
    unsafe fn write(&mut self, piece: Piece) {
        let ctx = self.ctx;
        let Output { buf, writes_cxt, since_reset, open, .. } = &mut *self.out;
        let bytes = &buf[..];
        match piece {
            Piece::Whole | Piece::Open(_) => {
                if bytes.len() >= OUT_LIMIT {
                    too_big(bytes.len(), None);
                }
                pg_sys::OutputPluginPrepareWrite(ctx, true);
                *open = match piece {
                    Piece::Open(what) => Some(what),
                    _ => None,
                };
            }
            Piece::Append | Piece::Close => {}
        }
        let out = (*ctx).out;
        // Checked before the StringInfo grows, so the user gets a clear ERROR and
        // never an allocator message.
        let size = (*out).len as usize + bytes.len();
        if size >= OUT_LIMIT {
            too_big(size, *open);
        }
        // Copied in Rust when the buffer has room (nearly always: ctx->out keeps
        // its size between messages); only growing it calls into PostgreSQL.
        if ((*out).maxlen - (*out).len) as usize <= bytes.len() {
            pg_sys::enlargeStringInfo(out, bytes.len() as i32);
        }
        // SAFETY: the StringInfo now has room for bytes.len() + its trailing NUL.
        std::ptr::copy_nonoverlapping(bytes.as_ptr(), (*out).data.add((*out).len as usize) as *mut u8, bytes.len());
        (*out).len += bytes.len() as i32;
        *(*out).data.add((*out).len as usize) = 0;
        if matches!(piece, Piece::Whole | Piece::Close) {
            *open = None;
            let written = (*out).len as usize;
            let old_cxt = pg_sys::MemoryContextSwitchTo(*writes_cxt);
            pg_sys::OutputPluginWrite(ctx, true);
            pg_sys::MemoryContextSwitchTo(old_cxt);
            *since_reset += written;
            if *since_reset >= WRITES_RESET_BYTES {
                pg_sys::MemoryContextReset(*writes_cxt);
                *since_reset = 0;
            }
        }
    }
}

/// The ERROR for a message over PostgreSQL's limit: a message built over
/// several pieces is named by its format (`open`).
fn too_big(size: usize, open: Option<&'static Oversize>) -> ! {
    let (message, hint) = match open {
        Some(what) => (format!("waljson: {} would exceed 1 GB ({size} bytes so far)", what.what), what.hint),
        None => (
            format!("waljson: a single output message would be {size} bytes, over PostgreSQL's 1 GB limit"),
            "A single row this large cannot be sent by a logical decoding plugin.",
        ),
    };
    pgrx::pg_sys::panic::ErrorReport::new(PgSqlErrorCode::ERRCODE_PROGRAM_LIMIT_EXCEEDED, message, "waljson write")
        .set_hint(hint)
        .report(PgLogLevel::ERROR);
    unreachable!("ERROR does not return")
}
