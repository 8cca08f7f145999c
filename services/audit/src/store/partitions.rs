//! Monthly partitions of `audit.audit_log` (by `recorded_at`, UTC): created ahead by the
//! service, dropped whole by the retention job.

use chrono::{DateTime, Datelike, TimeZone, Utc};
use sqlx::{AssertSqlSafe, PgConnection};

/// Serialises partition DDL between replicas (transaction-level advisory lock).
const PARTITION_LOCK: i64 = 0x7265_6761_6c01; // "regal" 01

/// A calendar month in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    pub year: i32,
    pub month: u32,
}

impl Month {
    pub fn of(time: DateTime<Utc>) -> Self {
        Self {
            year: time.year(),
            month: time.month(),
        }
    }

    pub fn next(self) -> Self {
        if self.month == 12 {
            Self {
                year: self.year + 1,
                month: 1,
            }
        } else {
            Self {
                year: self.year,
                month: self.month + 1,
            }
        }
    }

    /// Midnight UTC on the first of the month; `None` only for a month out of range.
    pub fn start(self) -> Option<DateTime<Utc>> {
        Utc.with_ymd_and_hms(self.year, self.month, 1, 0, 0, 0)
            .single()
    }

    /// The table name of this month's partition, `audit_log_pYYYYMM`.
    pub fn table_name(self) -> String {
        format!("audit_log_p{:04}{:02}", self.year, self.month)
    }

    /// The month of a partition's table name.
    pub fn from_table_name(name: &str) -> Option<Self> {
        let digits = name.strip_prefix("audit_log_p")?;
        if digits.len() != 6 || !digits.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        let year = digits[..4].parse().ok()?;
        let month = digits[4..].parse().ok()?;
        (1..=12).contains(&month).then_some(Self { year, month })
    }
}

/// Creates the partition of `month` unless it exists, append-only like its parent: the
/// row triggers are inherited; TRUNCATE of the partition itself is refused too, and
/// nobody holds UPDATE, DELETE or TRUNCATE on it.
pub async fn ensure(connection: &mut PgConnection, month: Month) -> Result<(), sqlx::Error> {
    sqlx::query("select pg_advisory_xact_lock($1)")
        .bind(PARTITION_LOCK)
        .execute(&mut *connection)
        .await?;
    let table = month.table_name();
    let exists: bool = sqlx::query_scalar(
        "select exists (select 1 from pg_class c join pg_namespace n on n.oid = c.relnamespace \
         where n.nspname = 'audit' and c.relname = $1)",
    )
    .bind(&table)
    .fetch_one(&mut *connection)
    .await?;
    if exists {
        return Ok(());
    }
    let (Some(start), Some(end)) = (month.start(), month.next().start()) else {
        return Err(sqlx::Error::Protocol(format!(
            "no partition bounds for month {}-{}",
            month.year, month.month
        )));
    };
    let from = start.format("%Y-%m-%d %H:%M:%S+00");
    let to = end.format("%Y-%m-%d %H:%M:%S+00");
    let statements = [
        format!(
            "create table audit.{table} partition of audit.audit_log \
             for values from ('{from}') to ('{to}')"
        ),
        format!(
            "create trigger audit_log_no_truncate before truncate on audit.{table} \
             for each statement execute function audit.refuse_change()"
        ),
        format!("revoke update, delete, truncate on audit.{table} from public"),
        format!("revoke update, delete, truncate on audit.{table} from current_user"),
    ];
    for statement in statements {
        sqlx::query(AssertSqlSafe(statement))
            .execute(&mut *connection)
            .await?;
    }
    tracing::info!(partition = %table, "audit log partition created");
    Ok(())
}

/// The months that have a partition, oldest first.
pub async fn existing(connection: &mut PgConnection) -> Result<Vec<Month>, sqlx::Error> {
    let names: Vec<String> = sqlx::query_scalar(
        "select c.relname::text from pg_inherits i \
         join pg_class c on c.oid = i.inhrelid \
         join pg_class p on p.oid = i.inhparent \
         join pg_namespace n on n.oid = p.relnamespace \
         where n.nspname = 'audit' and p.relname = 'audit_log'",
    )
    .fetch_all(&mut *connection)
    .await?;
    let mut months: Vec<Month> = names
        .iter()
        .filter_map(|name| Month::from_table_name(name))
        .collect();
    months.sort();
    Ok(months)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_name_their_partitions_and_roll_over_the_year() {
        let december = Month {
            year: 2026,
            month: 12,
        };
        assert_eq!(december.table_name(), "audit_log_p202612");
        assert_eq!(
            december.next(),
            Month {
                year: 2027,
                month: 1
            }
        );
        assert_eq!(Month::from_table_name("audit_log_p202612"), Some(december));
        assert_eq!(Month::from_table_name("audit_log_p202613"), None);
        assert_eq!(Month::from_table_name("audit_log"), None);
    }
}
