//! A connection that gives up on a client that stops reading. A streamed response (an
//! export) is written as the client takes it; a client that takes nothing would hold the
//! response, and the database connection feeding it, for ever. Here a write that can make
//! no progress for `timeout` fails, which ends the connection and frees both.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::Sleep;

pub struct SendDeadline {
    stream: TcpStream,
    timeout: Duration,
    /// Armed when a write first finds the client's window full; cleared by any progress.
    stalled: Option<Pin<Box<Sleep>>>,
}

impl SendDeadline {
    pub fn new(stream: TcpStream, timeout: Duration) -> SendDeadline {
        SendDeadline {
            stream,
            timeout,
            stalled: None,
        }
    }

    /// What a write that returned `poll` means: progress clears the deadline; waiting arms
    /// it, and past it the write fails.
    fn watch<T>(&mut self, cx: &mut Context<'_>, poll: Poll<io::Result<T>>) -> Poll<io::Result<T>> {
        if poll.is_ready() {
            self.stalled = None;
            return poll;
        }
        let timeout = self.timeout;
        let stalled = self
            .stalled
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
        ready!(stalled.as_mut().poll(cx));
        Poll::Ready(Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!("the client took no byte for {} s", timeout.as_secs()),
        )))
    }
}

impl AsyncRead for SendDeadline {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for SendDeadline {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.stream).poll_write(cx, buf);
        self.watch(cx, poll)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.stream).poll_write_vectored(cx, bufs);
        self.watch(cx, poll)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let poll = Pin::new(&mut self.stream).poll_flush(cx);
        self.watch(cx, poll)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let poll = Pin::new(&mut self.stream).poll_shutdown(cx);
        self.watch(cx, poll)
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::AsyncWriteExt;

    use super::*;

    /// A peer that never reads: the writer fails once the socket buffers are full and the
    /// deadline has passed, instead of waiting for ever.
    #[tokio::test]
    async fn a_peer_that_never_reads_fails_the_write() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let peer = tokio::spawn(async move { TcpStream::connect(address).await.unwrap() });
        let (stream, _) = listener.accept().await.unwrap();
        let _peer = peer.await.unwrap();
        let mut writer = SendDeadline::new(stream, Duration::from_millis(300));
        let chunk = vec![b'x'; 64 * 1024];
        let outcome = tokio::time::timeout(Duration::from_secs(20), async {
            loop {
                if let Err(error) = writer.write_all(&chunk).await {
                    return error;
                }
            }
        })
        .await
        .expect("the write fails before the test's own limit");
        assert_eq!(outcome.kind(), io::ErrorKind::TimedOut);
    }
}
