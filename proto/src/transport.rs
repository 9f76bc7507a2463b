//! The framing both sides speak over the Unix socket: length-delimited frames (a 4-byte
//! big-endian length, then that many bytes of JSON), with bounds on what a peer can make us
//! hold.
//!
//! Reading a frame is what costs memory, so the read side is bounded three ways: a frame longer
//! than the reader's limit closes the connection before anything is buffered; a frame must
//! arrive whole within [`FRAME_TIMEOUT`] of its first byte; and on the daemon, the body of every
//! frame larger than [`UNBUDGETED_FRAME_BYTES`] is read only once its size has been reserved
//! from a [`FrameBudget`] shared by every connection (the connection cap bounds the small
//! ones). The body's memory is released as soon as it has been decoded.
//!
//! The end of the read side (the peer hung up, or broke the framing) is announced on
//! [`Transport::hung_up`], so the daemon can drop a connection's requests in flight instead of
//! finishing them for nobody.

use std::io;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures::{Sink, Stream};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::net::UnixStream;
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::codec::{FramedWrite, LengthDelimitedCodec};
use tokio_util::sync::CancellationToken;

/// Largest request frame: well above the largest legitimate request (a message of
/// `MAX_MESSAGE_BYTES`, even with every byte JSON-escaped), far below the daemon's budget.
pub const MAX_REQUEST_FRAME_BYTES: usize = 8 * 1024 * 1024;
/// Largest reply frame (a `tail` chunk, a page of events, a long session list).
pub const MAX_REPLY_FRAME_BYTES: usize = 32 * 1024 * 1024;
/// Time from a frame's first byte to its last.
pub const FRAME_TIMEOUT: Duration = Duration::from_secs(10);
/// Frames up to this size are read without a reservation from the [`FrameBudget`], so small
/// requests (`ls`, `ping`, hooks) never queue behind large ones.
pub const UNBUDGETED_FRAME_BYTES: usize = 64 * 1024;

/// Bytes of frame bodies that may be buffered at once across every connection that shares it.
#[derive(Debug, Clone)]
pub struct FrameBudget {
    permits: Arc<Semaphore>,
    total: usize,
}

impl FrameBudget {
    /// A budget of `bytes` (at least one largest request frame).
    pub fn new(bytes: usize) -> Self {
        let total = bytes.clamp(MAX_REQUEST_FRAME_BYTES, u32::MAX as usize);
        Self {
            permits: Arc::new(Semaphore::new(total)),
            total,
        }
    }

    /// Waits until `len` bytes are free; frames of at most [`UNBUDGETED_FRAME_BYTES`] pass
    /// without a reservation.
    async fn reserve(&self, len: usize) -> io::Result<Option<OwnedSemaphorePermit>> {
        if len <= UNBUDGETED_FRAME_BYTES {
            return Ok(None);
        }
        let permits = u32::try_from(len.min(self.total)).unwrap_or(u32::MAX);
        self.permits
            .clone()
            .acquire_many_owned(permits)
            .await
            .map(Some)
            .map_err(|_| io::Error::other("the frame budget is closed"))
    }
}

/// What one side accepts and sends.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest frame read; a longer one closes the connection.
    pub max_read: usize,
    /// Largest frame written; a longer one fails the write.
    pub max_write: usize,
    /// Shared memory for the bodies of large frames (the daemon's side).
    pub budget: Option<FrameBudget>,
}

impl Limits {
    /// `aoctl`: reads replies, writes requests.
    pub fn client() -> Self {
        Self {
            max_read: MAX_REPLY_FRAME_BYTES,
            max_write: MAX_REQUEST_FRAME_BYTES,
            budget: None,
        }
    }

    /// `aod`: reads requests into `budget`, writes replies.
    pub fn server(budget: FrameBudget) -> Self {
        Self {
            max_read: MAX_REQUEST_FRAME_BYTES,
            max_write: MAX_REPLY_FRAME_BYTES,
            budget: Some(budget),
        }
    }
}

type Incoming<In> = Pin<Box<dyn Stream<Item = io::Result<In>> + Send>>;

/// A JSON transport over one Unix stream: a `Stream` of `In` and a `Sink` of `Out`.
pub struct Transport<In, Out> {
    incoming: Incoming<In>,
    outgoing: FramedWrite<OwnedWriteHalf, LengthDelimitedCodec>,
    hung_up: CancellationToken,
    out: PhantomData<fn(Out)>,
}

impl<In, Out> Transport<In, Out>
where
    In: DeserializeOwned + Send + 'static,
    Out: Serialize,
{
    pub fn new(stream: UnixStream, limits: Limits) -> Self {
        let (read, write) = stream.into_split();
        let hung_up = CancellationToken::new();
        let outgoing = FramedWrite::new(
            write,
            LengthDelimitedCodec::builder()
                .max_frame_length(limits.max_write)
                .new_codec(),
        );
        let state = ReadState {
            reader: BufReader::new(read),
            limits,
            hung_up: hung_up.clone(),
            ended: false,
        };
        let incoming = futures::stream::unfold(state, |mut state| async move {
            if state.ended {
                return None;
            }
            let item = match read_frame(&mut state.reader, &state.limits).await {
                Ok(Some(frame)) => serde_json::from_slice::<In>(&frame.body)
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e)),
                Ok(None) => {
                    state.hung_up.cancel();
                    return None;
                }
                Err(e) => Err(e),
            };
            if item.is_err() {
                state.ended = true;
                state.hung_up.cancel();
            }
            Some((item, state))
        });
        Self {
            incoming: Box::pin(incoming),
            outgoing,
            hung_up,
            out: PhantomData,
        }
    }
}

impl<In, Out> Transport<In, Out> {
    /// Cancelled once the peer has hung up or broken the framing: nothing more will be read.
    pub fn hung_up(&self) -> CancellationToken {
        self.hung_up.clone()
    }
}

struct ReadState {
    reader: BufReader<OwnedReadHalf>,
    limits: Limits,
    hung_up: CancellationToken,
    ended: bool,
}

/// A frame's body and the budget it holds until it is dropped.
struct Frame {
    body: Vec<u8>,
    _reserved: Option<OwnedSemaphorePermit>,
}

/// Reads one frame; `None` when the peer hung up between frames.
async fn read_frame(
    reader: &mut BufReader<OwnedReadHalf>,
    limits: &Limits,
) -> io::Result<Option<Frame>> {
    // A connection may stay quiet between frames as long as it likes (the daemon closes idle
    // connections itself); the frame's clock starts with its first byte.
    if reader.fill_buf().await?.is_empty() {
        return Ok(None);
    }
    let frame = async {
        let len = reader.read_u32().await? as usize;
        if len > limits.max_read {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "a frame of {len} bytes is over the limit of {} bytes",
                    limits.max_read
                ),
            ));
        }
        let reserved = match &limits.budget {
            Some(budget) => budget.reserve(len).await?,
            None => None,
        };
        let mut body = vec![0; len];
        reader.read_exact(&mut body).await?;
        Ok(Some(Frame {
            body,
            _reserved: reserved,
        }))
    };
    tokio::time::timeout(FRAME_TIMEOUT, frame)
        .await
        .unwrap_or_else(|_| {
            Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("a frame did not arrive whole within {FRAME_TIMEOUT:?} of its first byte"),
            ))
        })
}

impl<In, Out> Stream for Transport<In, Out> {
    type Item = io::Result<In>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().incoming.as_mut().poll_next(cx)
    }
}

impl<In, Out> Transport<In, Out> {
    fn outgoing(self: Pin<&mut Self>) -> Pin<&mut impl Sink<Bytes, Error = io::Error>> {
        Pin::new(&mut self.get_mut().outgoing)
    }
}

impl<In, Out: Serialize> Sink<Out> for Transport<In, Out> {
    type Error = io::Error;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.outgoing().poll_ready(cx)
    }

    fn start_send(self: Pin<&mut Self>, item: Out) -> io::Result<()> {
        let json = serde_json::to_vec(&item).map_err(io::Error::other)?;
        self.outgoing().start_send(Bytes::from(json))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.outgoing().poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.outgoing().poll_close(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::{SinkExt, StreamExt};
    use tokio::io::AsyncWriteExt;

    fn pair(limits: Limits) -> (Transport<String, String>, UnixStream) {
        let (ours, theirs) = UnixStream::pair().unwrap();
        (Transport::new(ours, limits), theirs)
    }

    fn frame(body: &[u8]) -> Vec<u8> {
        let mut out = (body.len() as u32).to_be_bytes().to_vec();
        out.extend_from_slice(body);
        out
    }

    #[tokio::test]
    async fn frames_round_trip_and_hang_up_is_announced() {
        let (mut transport, mut peer) = pair(Limits::client());
        let hung_up = transport.hung_up();
        peer.write_all(&frame(br#""hello""#)).await.unwrap();
        assert_eq!(transport.next().await.unwrap().unwrap(), "hello");
        transport.send("back".to_owned()).await.unwrap();
        let mut reply = vec![0; 4 + 6];
        peer.read_exact(&mut reply).await.unwrap();
        assert_eq!(&reply[4..], br#""back""#);
        assert!(!hung_up.is_cancelled());
        drop(peer);
        assert!(transport.next().await.is_none());
        assert!(hung_up.is_cancelled());
    }

    #[tokio::test]
    async fn an_oversized_frame_fails_before_its_body_arrives() {
        let (mut transport, mut peer) = pair(Limits::server(FrameBudget::new(0)));
        let len = (MAX_REQUEST_FRAME_BYTES + 1) as u32;
        peer.write_all(&len.to_be_bytes()).await.unwrap();
        let err = transport.next().await.unwrap().unwrap_err();
        assert!(err.to_string().contains("over the limit"), "{err}");
        assert!(transport.hung_up().is_cancelled());
        assert!(transport.next().await.is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn a_frame_must_complete_in_time() {
        let (mut transport, mut peer) = pair(Limits::client());
        peer.write_all(&100u32.to_be_bytes()).await.unwrap();
        peer.write_all(b"\"partial").await.unwrap();
        let err = transport.next().await.unwrap().unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut, "{err}");
    }

    #[tokio::test]
    async fn large_frames_wait_for_the_budget_small_ones_do_not() {
        let budget = FrameBudget::new(MAX_REQUEST_FRAME_BYTES);
        let held = budget.reserve(MAX_REQUEST_FRAME_BYTES).await.unwrap();
        let (mut transport, mut peer) = pair(Limits::server(budget.clone()));
        // A small frame passes although the budget is spent.
        peer.write_all(&frame(br#""small""#)).await.unwrap();
        assert_eq!(transport.next().await.unwrap().unwrap(), "small");
        // A large one waits until the budget has room again.
        let body = format!("\"{}\"", "x".repeat(UNBUDGETED_FRAME_BYTES));
        peer.write_all(&frame(body.as_bytes())).await.unwrap();
        let waiting = tokio::time::timeout(Duration::from_millis(200), transport.next()).await;
        assert!(waiting.is_err(), "read before the budget had room");
        drop(held);
        let text = transport.next().await.unwrap().unwrap();
        assert_eq!(text.len(), UNBUDGETED_FRAME_BYTES);
        assert_eq!(
            budget.permits.available_permits(),
            MAX_REQUEST_FRAME_BYTES,
            "released once decoded"
        );
    }
}
