//! What a report may be asked for: a shift, a day, or a range of days with a grouping.
//! Report days are calendar days in UTC.

use chrono::{DateTime, NaiveDate, Utc};
use regal_domain::{Violations, parse_uuid};
use regal_errors::FieldViolation;
use regal_proto::sales::v1::{self as proto, SalesReportGroupBy};
use uuid::Uuid;

/// The longest range a sales report covers (ten years), so a typo in a year cannot make
/// the server read the whole ledger for nothing.
pub const MAX_REPORT_DAYS: i64 = 3660;

/// An ISO date `YYYY-MM-DD`.
pub fn parse_day(field: &str, value: &str) -> Result<NaiveDate, FieldViolation> {
    NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d").map_err(|_| {
        FieldViolation::new(
            field,
            "date_from_datetime_parsing",
            "Input should be a valid date in the format YYYY-MM-DD",
        )
    })
}

/// An optional day: absent or blank means `default`.
fn day_or(
    field: &str,
    value: Option<&str>,
    default: NaiveDate,
) -> Result<NaiveDate, FieldViolation> {
    match value.map(str::trim).filter(|value| !value.is_empty()) {
        Some(value) => parse_day(field, value),
        None => Ok(default),
    }
}

/// A half-open span of time `[start, end)`: the UTC days `first..=last`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Days {
    pub first: NaiveDate,
    pub last: NaiveDate,
}

impl Days {
    pub fn one(day: NaiveDate) -> Self {
        Self {
            first: day,
            last: day,
        }
    }

    pub fn start(&self) -> DateTime<Utc> {
        self.first.and_time(chrono::NaiveTime::MIN).and_utc()
    }

    pub fn end(&self) -> DateTime<Utc> {
        let after = self.last.succ_opt().unwrap_or(self.last);
        after.and_time(chrono::NaiveTime::MIN).and_utc()
    }
}

/// Which shift a shift report is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShiftSelector {
    /// The caller's open shift, or their latest one.
    Mine,
    Id(Uuid),
}

impl TryFrom<&proto::GetShiftReportRequest> for ShiftSelector {
    type Error = Vec<FieldViolation>;

    fn try_from(request: &proto::GetShiftReportRequest) -> Result<Self, Self::Error> {
        match request
            .shift_id
            .as_deref()
            .map(str::trim)
            .filter(|id| !id.is_empty())
        {
            Some(id) => parse_uuid("query.shift_id", id)
                .map(Self::Id)
                .map_err(|violation| vec![violation]),
            None => Ok(Self::Mine),
        }
    }
}

/// The day of a daily report.
pub fn daily_report_day(
    request: &proto::GetDailyReportRequest,
    today: NaiveDate,
) -> Result<NaiveDate, Vec<FieldViolation>> {
    day_or("query.date", request.date.as_deref(), today).map_err(|violation| vec![violation])
}

/// How the sales report groups its rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    Day,
    Product,
    Cashier,
    Salesman,
}

impl GroupBy {
    pub fn to_proto(self) -> SalesReportGroupBy {
        match self {
            Self::Day => SalesReportGroupBy::Day,
            Self::Product => SalesReportGroupBy::Product,
            Self::Cashier => SalesReportGroupBy::Cashier,
            Self::Salesman => SalesReportGroupBy::Salesman,
        }
    }
}

/// A sales report: the days it covers and how its rows are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SalesReportQuery {
    pub days: Days,
    pub group_by: GroupBy,
}

impl SalesReportQuery {
    pub fn parse(
        request: &proto::GetSalesReportRequest,
        today: NaiveDate,
    ) -> Result<Self, Vec<FieldViolation>> {
        let mut violations = Violations::default();
        let group_by = match SalesReportGroupBy::try_from(request.group_by) {
            Ok(SalesReportGroupBy::Unspecified | SalesReportGroupBy::Day) => GroupBy::Day,
            Ok(SalesReportGroupBy::Product) => GroupBy::Product,
            Ok(SalesReportGroupBy::Cashier) => GroupBy::Cashier,
            Ok(SalesReportGroupBy::Salesman) => GroupBy::Salesman,
            Err(_) => {
                violations.push(group_by_violation());
                GroupBy::Day
            }
        };
        let last = day_or("query.to", Some(&request.to), today);
        let last_day = last.as_ref().ok().copied().unwrap_or(today);
        let first =
            violations.take_present(Some(day_or("query.from", Some(&request.from), last_day)));
        let last = violations.take_present(Some(last));
        if let (Some(first), Some(last)) = (first, last) {
            if last < first {
                violations.push(FieldViolation::new(
                    "query.to",
                    "value_error",
                    "`to` should be on or after `from`",
                ));
            } else if (last - first).num_days() >= MAX_REPORT_DAYS {
                violations.push(FieldViolation::new(
                    "query.from",
                    "value_error",
                    format!("A report covers at most {MAX_REPORT_DAYS} days"),
                ));
            }
        }
        let query = Self {
            days: Days {
                first: first.unwrap_or(today),
                last: last.unwrap_or(today),
            },
            group_by,
        };
        violations.finish(query)
    }
}

/// The violation of a `group_by` that is none of day, product, cashier, salesman.
pub fn group_by_violation() -> FieldViolation {
    FieldViolation::new(
        "query.group_by",
        "enum",
        "Input should be 'day', 'product', 'cashier' or 'salesman'",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    fn request(from: &str, to: &str, group_by: SalesReportGroupBy) -> proto::GetSalesReportRequest {
        proto::GetSalesReportRequest {
            from: from.to_owned(),
            to: to.to_owned(),
            group_by: group_by as i32,
        }
    }

    #[test]
    fn a_sales_report_defaults_to_today_and_from_defaults_to_to() {
        let today = day("2026-11-24");
        let query =
            SalesReportQuery::parse(&request("", "", SalesReportGroupBy::Unspecified), today)
                .unwrap();
        assert_eq!(query.days, Days::one(today));
        assert_eq!(query.group_by, GroupBy::Day);

        let query = SalesReportQuery::parse(
            &request("", "2026-01-31", SalesReportGroupBy::Salesman),
            today,
        )
        .unwrap();
        assert_eq!(query.days, Days::one(day("2026-01-31")));
        assert_eq!(query.group_by, GroupBy::Salesman);
    }

    #[test]
    fn a_sales_report_refuses_bad_dates_backwards_ranges_and_unknown_groupings() {
        let today = day("2026-11-24");
        let fields = |from: &str, to: &str, group_by: i32| -> Vec<String> {
            let mut request = request(from, to, SalesReportGroupBy::Day);
            request.group_by = group_by;
            SalesReportQuery::parse(&request, today)
                .unwrap_err()
                .into_iter()
                .map(|violation| violation.field)
                .collect()
        };
        assert_eq!(fields("2026-02-30", "", 1), ["query.from"]);
        assert_eq!(fields("", "24/11/2026", 1), ["query.to"]);
        assert_eq!(fields("2026-11-02", "2026-11-01", 1), ["query.to"]);
        assert_eq!(fields("2026-11-01", "2026-11-02", 9), ["query.group_by"]);
        assert_eq!(fields("1026-11-01", "2026-11-02", 1), ["query.from"]);
    }

    #[test]
    fn days_are_utc_calendar_days_end_exclusive() {
        let days = Days {
            first: day("2026-03-01"),
            last: day("2026-03-02"),
        };
        assert_eq!(days.start().to_rfc3339(), "2026-03-01T00:00:00+00:00");
        assert_eq!(days.end().to_rfc3339(), "2026-03-03T00:00:00+00:00");
    }

    #[test]
    fn a_shift_report_is_about_my_shift_unless_an_id_is_given() {
        let mine = ShiftSelector::try_from(&proto::GetShiftReportRequest { shift_id: None });
        assert_eq!(mine.unwrap(), ShiftSelector::Mine);
        let blank = ShiftSelector::try_from(&proto::GetShiftReportRequest {
            shift_id: Some(" ".to_owned()),
        });
        assert_eq!(blank.unwrap(), ShiftSelector::Mine);
        let id = Uuid::now_v7();
        let given = ShiftSelector::try_from(&proto::GetShiftReportRequest {
            shift_id: Some(id.to_string()),
        });
        assert_eq!(given.unwrap(), ShiftSelector::Id(id));
        let bad = ShiftSelector::try_from(&proto::GetShiftReportRequest {
            shift_id: Some("nope".to_owned()),
        })
        .unwrap_err();
        assert_eq!(bad[0].field, "query.shift_id");
    }

    #[test]
    fn a_daily_report_is_about_today_unless_a_date_is_given() {
        let today = day("2026-11-24");
        let request = |date: Option<&str>| proto::GetDailyReportRequest {
            date: date.map(str::to_owned),
        };
        assert_eq!(daily_report_day(&request(None), today).unwrap(), today);
        assert_eq!(
            daily_report_day(&request(Some("2026-01-02")), today).unwrap(),
            day("2026-01-02")
        );
        assert!(daily_report_day(&request(Some("yesterday")), today).is_err());
    }
}
