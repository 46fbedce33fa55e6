//! A file as it arrives, as rows: the body's chunks through the CSV reader, with the file's
//! size bounded as it is counted (the body is never held whole).

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use futures_util::stream::{BoxStream, Stream, StreamExt};

use super::csv::{CsvError, CsvReader, Limits, Row};

/// Why a file stopped being read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SourceError {
    #[error("{0}")]
    Csv(#[from] CsvError),
    #[error("the file stopped arriving: {0}")]
    Read(String),
    #[error("the file is larger than {max} bytes")]
    TooLarge { max: u64 },
}

/// The rows of a file, a chunk's worth at a time (the header row first).
pub type Rows = BoxStream<'static, Result<Vec<Row>, SourceError>>;

/// A file's rows, and the delimiter its cells turned out to have.
pub struct Source {
    pub rows: Rows,
    delimiter: Arc<AtomicU8>,
}

impl Source {
    /// The delimiter, once the header row has been read (a comma before).
    pub fn delimiter(&self) -> u8 {
        match self.delimiter.load(Ordering::Relaxed) {
            0 => b',',
            found => found,
        }
    }
}

/// Reads a CSV file from `body`'s chunks; at most `max_bytes` of it.
pub fn csv_rows<S, B, E>(body: S, delimiter: Option<u8>, limits: Limits, max_bytes: u64) -> Source
where
    S: Stream<Item = Result<B, E>> + Send + 'static,
    B: AsRef<[u8]>,
    E: std::fmt::Display,
{
    struct State<S> {
        body: std::pin::Pin<Box<S>>,
        reader: CsvReader,
        read: u64,
        done: bool,
        found: Arc<AtomicU8>,
    }
    let found = Arc::new(AtomicU8::new(0));
    let state = State {
        body: Box::pin(body),
        reader: CsvReader::new(delimiter, limits),
        read: 0,
        done: false,
        found: found.clone(),
    };
    let rows = futures_util::stream::unfold(state, move |mut state| async move {
        if state.done {
            return None;
        }
        let result = match state.body.next().await {
            Some(Ok(chunk)) => {
                let chunk = chunk.as_ref();
                state.read += chunk.len() as u64;
                if state.read > max_bytes {
                    Err(SourceError::TooLarge { max: max_bytes })
                } else {
                    state.reader.push(chunk).map_err(SourceError::from)
                }
            }
            Some(Err(error)) => Err(SourceError::Read(error.to_string())),
            None => {
                state.done = true;
                state.reader.finish().map_err(SourceError::from)
            }
        };
        if result.is_err() {
            state.done = true;
        }
        if let Some(delimiter) = state.reader.delimiter() {
            state.found.store(delimiter, Ordering::Relaxed);
        }
        Some((result, state))
    })
    .boxed();
    Source {
        rows,
        delimiter: found,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks(parts: &[&'static str]) -> Vec<Result<&'static [u8], String>> {
        parts.iter().map(|p| Ok(p.as_bytes())).collect()
    }

    async fn all(rows: Rows) -> Vec<Result<Vec<Row>, SourceError>> {
        rows.collect().await
    }

    #[tokio::test]
    async fn rows_arrive_as_their_chunks_complete() {
        let body = futures_util::stream::iter(chunks(&["a,b\r\n1,", "2\r\n3,4"]));
        let rows: Vec<Row> = all(csv_rows(body, None, Limits::default(), 100).rows)
            .await
            .into_iter()
            .flat_map(Result::unwrap)
            .collect();
        let cells: Vec<Vec<&str>> = rows
            .iter()
            .map(|(_, cells)| cells.iter().map(String::as_str).collect())
            .collect();
        assert_eq!(cells, [["a", "b"], ["1", "2"], ["3", "4"]]);
        assert_eq!(rows[2].0, 3);
    }

    #[tokio::test]
    async fn a_file_over_the_bound_or_cut_short_ends_with_why() {
        let body = futures_util::stream::iter(chunks(&["a,b\r\n", "1,2\r\n"]));
        let results = all(csv_rows(body, None, Limits::default(), 8).rows).await;
        assert_eq!(results.last(), Some(&Err(SourceError::TooLarge { max: 8 })));
        let broken: Vec<Result<&[u8], String>> = vec![Ok(b"a\r\n"), Err("reset".into())];
        let results = all(csv_rows(
            futures_util::stream::iter(broken),
            None,
            Limits::default(),
            99,
        )
        .rows)
        .await;
        assert_eq!(
            results.last(),
            Some(&Err(SourceError::Read("reset".into())))
        );
        assert_eq!(results.len(), 2);
    }
}
