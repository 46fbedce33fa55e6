//! A ZIP archive written as a stream (APPNOTE 6.3.9): each entry deflated as it is written,
//! its CRC and sizes in a data descriptor after its data, so nothing is held back or written
//! twice; the bytes are taken out piece by piece to be sent. ZIP64 records are added where a
//! size or offset passes 4 GiB (a very wide sheet of a million rows can).

use std::io::Write;

use flate2::Compression;
use flate2::write::DeflateEncoder;

const LOCAL_HEADER: u32 = 0x0403_4b50;
const DATA_DESCRIPTOR: u32 = 0x0807_4b50;
const CENTRAL_HEADER: u32 = 0x0201_4b50;
const END_OF_CENTRAL_DIRECTORY: u32 = 0x0605_4b50;
const ZIP64_END: u32 = 0x0606_4b50;
const ZIP64_LOCATOR: u32 = 0x0706_4b50;
/// Bit 3: sizes and CRC follow the data; bit 11: the names are UTF-8.
const FLAGS: u16 = 0x0808;
const DEFLATE: u16 = 8;
/// 4.5: ZIP64; 2.0: deflate.
const VERSION_ZIP64: u16 = 45;
const VERSION_DEFLATE: u16 = 20;
const LIMIT: u64 = 0xFFFF_FFFF;

/// An archive being written; [`ZipStream::take`] hands over what is written so far.
pub struct ZipStream {
    out: Vec<u8>,
    /// Bytes written in all, taken or not.
    offset: u64,
    /// DOS time and date of every entry.
    stamp: (u16, u16),
    done: Vec<Entry>,
    current: Option<Open>,
    /// Sizes and offsets from which ZIP64 records are written: 4 GiB (lower in tests).
    large: u64,
}

struct Entry {
    name: String,
    offset: u64,
    crc: u32,
    compressed: u64,
    size: u64,
}

struct Open {
    name: String,
    offset: u64,
    crc: crc32fast::Hasher,
    size: u64,
    compressed: u64,
    encoder: DeflateEncoder<Vec<u8>>,
}

impl ZipStream {
    /// An archive whose entries are dated `now` (local time as a ZIP has it: no zone).
    pub fn new(now: chrono::NaiveDateTime) -> ZipStream {
        use chrono::{Datelike, Timelike};
        let time = ((now.hour() << 11) | (now.minute() << 5) | (now.second() / 2)) as u16;
        let year = now.year().clamp(1980, 2107) as u32 - 1980;
        let date = (year << 9 | now.month() << 5 | now.day()) as u16;
        ZipStream {
            out: Vec::with_capacity(64 * 1024),
            offset: 0,
            stamp: (time, date),
            done: Vec::new(),
            current: None,
            large: LIMIT,
        }
    }

    /// Starts the entry `name` (ending the one before).
    pub fn start(&mut self, name: &str) {
        self.end_entry();
        let offset = self.offset;
        let mut header = Vec::with_capacity(30 + name.len());
        put32(&mut header, LOCAL_HEADER);
        put16(&mut header, VERSION_DEFLATE);
        put16(&mut header, FLAGS);
        put16(&mut header, DEFLATE);
        put16(&mut header, self.stamp.0);
        put16(&mut header, self.stamp.1);
        // CRC and sizes: in the data descriptor.
        put32(&mut header, 0);
        put32(&mut header, 0);
        put32(&mut header, 0);
        put16(&mut header, name.len() as u16);
        put16(&mut header, 0);
        header.extend_from_slice(name.as_bytes());
        self.emit(&header);
        self.current = Some(Open {
            name: name.to_owned(),
            offset,
            crc: crc32fast::Hasher::new(),
            size: 0,
            compressed: 0,
            encoder: DeflateEncoder::new(Vec::new(), Compression::fast()),
        });
    }

    /// Appends `data` to the current entry.
    pub fn write(&mut self, data: &[u8]) {
        let Some(open) = self.current.as_mut() else {
            return;
        };
        open.crc.update(data);
        open.size += data.len() as u64;
        // Writing into a Vec cannot fail.
        let _ = open.encoder.write_all(data);
        let compressed = std::mem::take(open.encoder.get_mut());
        open.compressed += compressed.len() as u64;
        self.emit(&compressed);
    }

    /// Ends the last entry and writes the central directory: the archive is complete.
    pub fn finish(&mut self) {
        self.end_entry();
        let start = self.offset;
        let mut directory = Vec::new();
        for entry in &self.done {
            let large = entry.size >= self.large
                || entry.compressed >= self.large
                || entry.offset >= self.large;
            let mut extra = Vec::new();
            if large {
                put16(&mut extra, 0x0001);
                put16(&mut extra, 24);
                put64(&mut extra, entry.size);
                put64(&mut extra, entry.compressed);
                put64(&mut extra, entry.offset);
            }
            let version = if large {
                VERSION_ZIP64
            } else {
                VERSION_DEFLATE
            };
            put32(&mut directory, CENTRAL_HEADER);
            put16(&mut directory, version);
            put16(&mut directory, version);
            put16(&mut directory, FLAGS);
            put16(&mut directory, DEFLATE);
            put16(&mut directory, self.stamp.0);
            put16(&mut directory, self.stamp.1);
            put32(&mut directory, entry.crc);
            let capped = |n: u64| if large { LIMIT as u32 } else { n as u32 };
            put32(&mut directory, capped(entry.compressed));
            put32(&mut directory, capped(entry.size));
            put16(&mut directory, entry.name.len() as u16);
            put16(&mut directory, extra.len() as u16);
            put16(&mut directory, 0); // comment
            put16(&mut directory, 0); // disk
            put16(&mut directory, 0); // internal attributes
            put32(&mut directory, 0); // external attributes
            put32(&mut directory, capped(entry.offset));
            directory.extend_from_slice(entry.name.as_bytes());
            directory.extend_from_slice(&extra);
        }
        let size = directory.len() as u64;
        let count = self.done.len() as u64;
        self.emit(&directory);
        let mut end = Vec::new();
        let zip64 = start >= self.large || size >= self.large || count >= 0xFFFF;
        if zip64 {
            let zip64_end = self.offset;
            put32(&mut end, ZIP64_END);
            put64(&mut end, 44);
            put16(&mut end, VERSION_ZIP64);
            put16(&mut end, VERSION_ZIP64);
            put32(&mut end, 0);
            put32(&mut end, 0);
            put64(&mut end, count);
            put64(&mut end, count);
            put64(&mut end, size);
            put64(&mut end, start);
            put32(&mut end, ZIP64_LOCATOR);
            put32(&mut end, 0);
            put64(&mut end, zip64_end);
            put32(&mut end, 1);
        }
        put32(&mut end, END_OF_CENTRAL_DIRECTORY);
        put16(&mut end, 0);
        put16(&mut end, 0);
        let (count, size, start) = if zip64 {
            (0xFFFF, LIMIT, LIMIT)
        } else {
            (count, size, start)
        };
        put16(&mut end, count as u16);
        put16(&mut end, count as u16);
        put32(&mut end, size as u32);
        put32(&mut end, start as u32);
        put16(&mut end, 0);
        self.emit(&end);
    }

    /// What has been written since the last call.
    pub fn take(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.out)
    }

    fn end_entry(&mut self) {
        let Some(open) = self.current.take() else {
            return;
        };
        let rest = open.encoder.finish().unwrap_or_default();
        let compressed = open.compressed + rest.len() as u64;
        self.emit(&rest);
        let entry = Entry {
            name: open.name,
            offset: open.offset,
            crc: open.crc.finalize(),
            compressed,
            size: open.size,
        };
        let mut descriptor = Vec::with_capacity(24);
        put32(&mut descriptor, DATA_DESCRIPTOR);
        put32(&mut descriptor, entry.crc);
        if entry.size >= self.large || entry.compressed >= self.large {
            put64(&mut descriptor, entry.compressed);
            put64(&mut descriptor, entry.size);
        } else {
            put32(&mut descriptor, entry.compressed as u32);
            put32(&mut descriptor, entry.size as u32);
        }
        self.emit(&descriptor);
        self.done.push(entry);
    }

    fn emit(&mut self, bytes: &[u8]) {
        self.out.extend_from_slice(bytes);
        self.offset += bytes.len() as u64;
    }
}

fn put16(out: &mut Vec<u8>, n: u16) {
    out.extend_from_slice(&n.to_le_bytes());
}

fn put32(out: &mut Vec<u8>, n: u32) {
    out.extend_from_slice(&n.to_le_bytes());
}

fn put64(out: &mut Vec<u8>, n: u64) {
    out.extend_from_slice(&n.to_le_bytes());
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::ZipStream;

    /// Written with ZIP64 records from `large` bytes on (4 GiB outside tests).
    fn archive(large: u64) {
        let now = chrono::NaiveDate::from_ymd_opt(2026, 12, 2)
            .unwrap()
            .and_hms_opt(13, 14, 16)
            .unwrap();
        let mut zip = ZipStream::new(now);
        zip.large = large;
        let mut bytes = Vec::new();
        zip.start("a.txt");
        zip.write(b"hello ");
        bytes.extend(zip.take());
        zip.write(b"world");
        zip.start("dir/b.xml");
        let big: Vec<u8> = (0..200_000u32).flat_map(|i| i.to_le_bytes()).collect();
        for piece in big.chunks(7_000) {
            zip.write(piece);
            bytes.extend(zip.take());
        }
        zip.start("empty");
        zip.finish();
        bytes.extend(zip.take());
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        assert_eq!(archive.len(), 3);
        let mut read = |name: &str| {
            let mut text = Vec::new();
            archive
                .by_name(name)
                .unwrap()
                .read_to_end(&mut text)
                .unwrap();
            text
        };
        assert_eq!(read("a.txt"), b"hello world");
        assert_eq!(read("dir/b.xml"), big);
        assert_eq!(read("empty"), b"");
    }

    #[test]
    fn what_is_streamed_reads_back_as_an_archive() {
        archive(super::LIMIT);
    }

    #[test]
    fn zip64_records_read_back_too() {
        // Every size and offset past the bound: the records of an archive beyond 4 GiB.
        archive(1);
    }
}
