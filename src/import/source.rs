//! A file as it arrives, as rows: the body's chunks through the CSV reader, with the file's
//! size bounded as it is counted (the body is never held in memory); or a workbook, kept on
//! disk until it has arrived, then read a sheet's row at a time.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};

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
    #[error("{0}")]
    Workbook(String),
    #[error("the workbook unpacks to more than {max} bytes: refused (save the sheet as CSV)")]
    Unpacked { max: u64 },
}

/// The rows of a file, a chunk's worth at a time (the header row first).
pub type Rows = BoxStream<'static, Result<Vec<Row>, SourceError>>;

/// A file's rows, the delimiter its cells turned out to have, and whether it is all here.
pub struct Source {
    pub rows: Rows,
    delimiter: Arc<AtomicU8>,
    whole: Arc<AtomicBool>,
}

impl Source {
    /// The delimiter, once the header row has been read (a comma before, and for a
    /// workbook).
    pub fn delimiter(&self) -> u8 {
        match self.delimiter.load(Ordering::Relaxed) {
            0 => b',',
            found => found,
        }
    }

    /// Whether the whole file has arrived (a workbook is kept until it has, then read), so
    /// that what is left of its rows need not be read to take in the rest of the request.
    pub fn whole(&self) -> bool {
        self.whole.load(Ordering::Acquire)
    }
}

/// How the file is to be read.
#[derive(Clone, Debug, Default)]
pub struct Format {
    /// The request said it is a workbook (else one is known by its first bytes).
    pub workbook: bool,
    /// A CSV file's cell separator; `None`: found in the header line.
    pub delimiter: Option<u8>,
    /// A workbook's sheet; `None`: the first.
    pub sheet: Option<String>,
}

/// The first bytes of a ZIP archive, which an XLSX workbook is.
pub(super) const ZIP_MAGIC: &[u8] = b"PK\x03\x04";

/// A chunk of a CSV body: the first, looked at to tell the kind of file, or one after it.
enum Chunk<B> {
    First(Vec<u8>),
    Rest(B),
}

impl<B: AsRef<[u8]>> AsRef<[u8]> for Chunk<B> {
    fn as_ref(&self) -> &[u8] {
        match self {
            Chunk::First(bytes) => bytes,
            Chunk::Rest(bytes) => bytes.as_ref(),
        }
    }
}

/// Reads a CSV file or an XLSX workbook from `body`'s chunks; at most `max_bytes` of it. A
/// CSV file is read as it arrives; a workbook, whose directory is at its end, is kept in a
/// temporary file (deleted when closed) until it has arrived, then read from there.
pub fn file_rows<S, B, E>(body: S, format: Format, limits: Limits, max_bytes: u64) -> Source
where
    S: Stream<Item = Result<B, E>> + Send + 'static,
    B: AsRef<[u8]> + Send + 'static,
    E: std::fmt::Display + Send + 'static,
{
    let found = Arc::new(AtomicU8::new(0));
    let whole = Arc::new(AtomicBool::new(false));
    let (csv_found, arrived) = (found.clone(), whole.clone());
    // Fused: an empty body has ended when its first chunk is asked for.
    let mut body = Box::pin(body.fuse());
    let rows = futures_util::stream::once(async move {
        let first = match body.next().await {
            Some(Ok(chunk)) => chunk.as_ref().to_vec(),
            Some(Err(error)) => {
                return futures_util::stream::iter([Err(SourceError::Read(error.to_string()))])
                    .boxed();
            }
            None => Vec::new(),
        };
        if format.workbook || first.starts_with(ZIP_MAGIC) {
            let sheet = format.sheet.clone();
            futures_util::stream::once(spool(first, body, max_bytes))
                .flat_map(move |spooled| match spooled {
                    Ok(file) => {
                        arrived.store(true, Ordering::Release);
                        super::workbook::rows(file, sheet.clone(), limits, Default::default())
                    }
                    Err(error) => futures_util::stream::iter([Err(error)]).boxed(),
                })
                .boxed()
        } else {
            // The rest as it comes, not copied: only the first chunk was taken out.
            let rest = body.map(|chunk| chunk.map(Chunk::Rest));
            let all = futures_util::stream::iter([Ok::<_, E>(Chunk::First(first))]).chain(rest);
            csv_stream(all, format.delimiter, limits, max_bytes, csv_found, arrived)
        }
    })
    .flatten()
    .boxed();
    Source {
        rows,
        delimiter: found,
        whole,
    }
}

/// A workbook already on disk (`autoadmin import`): its rows.
pub fn workbook_rows(file: std::fs::File, sheet: Option<String>, limits: Limits) -> Source {
    Source {
        rows: super::workbook::rows(file, sheet, limits, Default::default()),
        delimiter: Arc::new(AtomicU8::new(0)),
        whole: Arc::new(AtomicBool::new(true)),
    }
}

/// Keeps `first` and the rest of `body` in a temporary file, at most `max_bytes`.
async fn spool<S, B, E>(
    first: Vec<u8>,
    mut body: S,
    max_bytes: u64,
) -> Result<std::fs::File, SourceError>
where
    S: Stream<Item = Result<B, E>> + Unpin,
    B: AsRef<[u8]>,
    E: std::fmt::Display,
{
    use tokio::io::AsyncWriteExt;
    let failed =
        |error: std::io::Error| SourceError::Read(format!("the file cannot be kept: {error}"));
    let file = tokio::task::spawn_blocking(tempfile::tempfile)
        .await
        .map_err(|error| SourceError::Read(error.to_string()))?
        .map_err(failed)?;
    let mut out = tokio::fs::File::from_std(file);
    let mut written = first.len() as u64;
    out.write_all(&first).await.map_err(failed)?;
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|error| SourceError::Read(error.to_string()))?;
        let chunk = chunk.as_ref();
        written += chunk.len() as u64;
        if written > max_bytes {
            return Err(SourceError::TooLarge { max: max_bytes });
        }
        out.write_all(chunk).await.map_err(failed)?;
    }
    out.flush().await.map_err(failed)?;
    Ok(out.into_std().await)
}

/// Reads a CSV file from `body`'s chunks; at most `max_bytes` of it.
pub fn csv_rows<S, B, E>(body: S, delimiter: Option<u8>, limits: Limits, max_bytes: u64) -> Source
where
    S: Stream<Item = Result<B, E>> + Send + 'static,
    B: AsRef<[u8]>,
    E: std::fmt::Display,
{
    let found = Arc::new(AtomicU8::new(0));
    let whole = Arc::new(AtomicBool::new(false));
    let rows = csv_stream(
        body,
        delimiter,
        limits,
        max_bytes,
        found.clone(),
        whole.clone(),
    );
    Source {
        rows,
        delimiter: found,
        whole,
    }
}

fn csv_stream<S, B, E>(
    body: S,
    delimiter: Option<u8>,
    limits: Limits,
    max_bytes: u64,
    found: Arc<AtomicU8>,
    whole: Arc<AtomicBool>,
) -> Rows
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
        whole: Arc<AtomicBool>,
    }
    let state = State {
        body: Box::pin(body),
        reader: CsvReader::new(delimiter, limits),
        read: 0,
        done: false,
        found,
        whole,
    };
    futures_util::stream::unfold(state, move |mut state| async move {
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
                state.whole.store(true, Ordering::Release);
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
    .boxed()
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
