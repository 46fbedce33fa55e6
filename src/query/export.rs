//! The format of a CSV export, from its own parameters: what a spreadsheet program needs to
//! open the file as columns. Excel reads a CSV file with the list separator of the system's
//! region (`;` where the decimal separator is a comma, as in France or Germany) and as the
//! system's legacy code page unless the file starts with a byte order mark.

use super::Error;
use super::params::Params;

/// `_delimiter`: the names it takes and the separator each stands for.
pub const DELIMITERS: &[(&str, char)] = &[("comma", ','), ("semicolon", ';')];

/// How an export writes its cells.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CsvFormat {
    /// Between cells: `,` (RFC 4180) or `;`.
    pub delimiter: char,
    /// Whether the file starts with a UTF-8 byte order mark.
    pub bom: bool,
}

impl Default for CsvFormat {
    fn default() -> CsvFormat {
        CsvFormat {
            delimiter: ',',
            bom: false,
        }
    }
}

/// Takes `_delimiter` and `_bom` out of `params` (each at most once).
pub(super) fn parse(params: &mut Params) -> Result<CsvFormat, Error> {
    let mut format = CsvFormat::default();
    if let Some(name) = params.one("_delimiter")? {
        format.delimiter = DELIMITERS
            .iter()
            .find(|(known, _)| *known == name)
            .map(|(_, delimiter)| *delimiter)
            .ok_or_else(|| {
                let names: Vec<&str> = DELIMITERS.iter().map(|(known, _)| *known).collect();
                Error::BadParameter {
                    name: "_delimiter".into(),
                    message: format!("must be {}, not \"{name}\"", names.join(" or ")),
                }
            })?;
    }
    if let Some(text) = params.one("_bom")? {
        format.bom = match text.as_str() {
            "true" => true,
            "false" => false,
            _ => {
                return Err(Error::BadParameter {
                    name: "_bom".into(),
                    message: format!("must be true or false, not \"{text}\""),
                });
            }
        };
    }
    Ok(format)
}
