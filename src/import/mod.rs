//! Import of files into an entity (issue #18). So far: the CSV reader, which reads a file as
//! it arrives, in chunks, into rows of text cells, with bounded memory whatever the file.

pub mod csv;
