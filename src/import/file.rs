//! A file on disk as an import's body, read in chunks as the import takes them, counting the
//! bytes read (what a progress bar shows): how `autoadmin import` reads files too big for a
//! browser.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use futures_util::stream::{BoxStream, StreamExt};
use tokio::io::AsyncReadExt;

/// How much of the file is read at a time.
const CHUNK: usize = 256 * 1024;

/// The chunks of the file at `path`, and the count of bytes read so far.
pub async fn chunks(
    path: &Path,
) -> std::io::Result<(BoxStream<'static, Result<Vec<u8>, String>>, Arc<AtomicU64>)> {
    let file = tokio::fs::File::open(path).await?;
    let read = Arc::new(AtomicU64::new(0));
    let counted = read.clone();
    let stream = futures_util::stream::unfold(Some(file), move |file| {
        let counted = counted.clone();
        async move {
            let mut file = file?;
            let mut buffer = vec![0; CHUNK];
            match file.read(&mut buffer).await {
                Ok(0) => None,
                Ok(n) => {
                    buffer.truncate(n);
                    counted.fetch_add(n as u64, Ordering::Relaxed);
                    Some((Ok(buffer), Some(file)))
                }
                Err(error) => Some((Err(error.to_string()), None)),
            }
        }
    })
    .boxed();
    Ok((stream, read))
}

/// Whether the file at `path` is a ZIP archive, as an Excel workbook (XLSX) is.
pub async fn is_workbook(path: &Path) -> std::io::Result<bool> {
    let mut file = tokio::fs::File::open(path).await?;
    let mut magic = [0u8; 4];
    let mut filled = 0;
    while filled < magic.len() {
        match file.read(&mut magic[filled..]).await? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(magic == super::source::ZIP_MAGIC)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_file_reads_whole_in_chunks_and_counts_its_bytes() {
        let path = std::env::temp_dir().join(format!("autoadmin-chunks-{}", std::process::id()));
        let text: Vec<u8> = (0..CHUNK * 2 + 17).map(|i| b'a' + (i % 26) as u8).collect();
        std::fs::write(&path, &text).unwrap();
        let (stream, read) = chunks(&path).await.unwrap();
        let parts: Vec<Vec<u8>> = stream.map(Result::unwrap).collect().await;
        assert_eq!(parts.len(), 3);
        assert_eq!(parts.concat(), text);
        assert_eq!(read.load(Ordering::Relaxed), text.len() as u64);
        std::fs::remove_file(&path).unwrap();
        assert!(chunks(&path).await.is_err());
    }
}
