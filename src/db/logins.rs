//! autoadmin's table of login counters (beside the sessions'): attempts per client address
//! and failures per user name, each in a fixed window, so that every instance over the
//! database counts the same attempts. A counter is named by the SHA-256 of what it counts,
//! so that no address or name is kept in clear.

use super::{Db, Error};
use crate::schema::Value;

fn unavailable(err: sqlx::Error) -> Error {
    Error::Unavailable(err.to_string())
}

impl Db {
    /// Counts one more in `counter`'s window (a new window from `now` if the last one began
    /// at `expired` or before): the count and the window's start, after it. One transaction:
    /// of instances counting at once, each sees its own count.
    pub async fn count_login(
        &self,
        counter: &str,
        now: i64,
        expired: i64,
    ) -> Result<(i64, i64), Error> {
        let upsert = self.numbered(
            self.dialect().count_login(),
            vec![
                Value::Text(counter.to_owned()),
                Value::Int(now),
                Value::Int(expired),
                Value::Int(expired),
                Value::Int(now),
            ],
        );
        let read = self.counter_query(counter);
        self.write_own(move |tx| {
            Box::pin(async move {
                tx.execute(&upsert).await?;
                let row = tx.fetch_ints(&read).await?;
                Ok(row.unwrap_or((1, now)))
            })
        })
        .await
    }

    /// The count of `counter` and the start of its window, if it has one.
    pub async fn login_counter(&self, counter: &str) -> Result<Option<(i64, i64)>, Error> {
        let read = self.counter_query(counter);
        read!(self, unavailable, |conn| conn.fetch_ints(&read))
    }

    /// Forgets `counter` (a success clears a user name's failures).
    pub async fn clear_login_counter(&self, counter: &str) -> Result<(), Error> {
        let delete = self.numbered(
            "DELETE FROM autoadmin_login_attempts WHERE counter = ?",
            vec![Value::Text(counter.to_owned())],
        );
        read!(self, unavailable, |conn| conn.execute(&delete)).map(drop)
    }

    /// Forgets the counters whose window began at `expired` or before.
    pub async fn sweep_login_counters(&self, expired: i64) -> Result<(), Error> {
        let delete = self.numbered(
            "DELETE FROM autoadmin_login_attempts WHERE window_start <= ?",
            vec![Value::Int(expired)],
        );
        read!(self, unavailable, |conn| conn.execute(&delete)).map(drop)
    }

    fn counter_query(&self, counter: &str) -> super::Sql {
        self.numbered(
            "SELECT attempts, window_start FROM autoadmin_login_attempts WHERE counter = ?",
            vec![Value::Text(counter.to_owned())],
        )
    }
}
