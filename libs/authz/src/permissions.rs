//! The role → permission table of REST-API.md, written once.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Cashier,
    Employee,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Admin, Role::Cashier, Role::Employee];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Cashier => "cashier",
            Role::Employee => "employee",
        }
    }

    /// The permission table. Deletes are admin-only; admins may do everything.
    pub fn allows(self, permission: Permission) -> bool {
        use Action::{Create, Delete, Read, Update};
        use Resource::*;
        match self {
            Role::Admin => true,
            Role::Cashier => match permission {
                Permission::Crud(Products | Stock, Read) => true,
                Permission::Crud(Customers | CustomOrders, Create | Read | Update) => true,
                Permission::Crud(Salesmen, Read) => true,
                Permission::Crud(Invoices | Refunds, Create | Read) => true,
                Permission::Crud(_, _) => false,
                Permission::PointOfSale | Permission::ShiftReportOwn | Permission::DailyReport => {
                    true
                }
                Permission::ShiftReportAny
                | Permission::SalesReport
                | Permission::AdminDashboard
                | Permission::Settings
                | Permission::Audit => false,
            },
            Role::Employee => match permission {
                Permission::Crud(_, Delete) => false,
                Permission::Crud(
                    Products | Vendors | Stock | Customers | Salesmen | CustomOrders,
                    Create | Read | Update,
                ) => true,
                Permission::Crud(Expenses, Create | Read) => true,
                Permission::Crud(Invoices | Refunds, Read) => true,
                Permission::Crud(_, _) => false,
                Permission::PointOfSale
                | Permission::ShiftReportOwn
                | Permission::ShiftReportAny
                | Permission::DailyReport
                | Permission::SalesReport
                | Permission::AdminDashboard
                | Permission::Settings
                | Permission::Audit => false,
            },
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value {
            "admin" => Ok(Role::Admin),
            "cashier" => Ok(Role::Cashier),
            "employee" => Ok(Role::Employee),
            other => Err(format!("unknown role {other:?}")),
        }
    }
}

/// The things a role may act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Resource {
    Users,
    Products,
    Vendors,
    Stock,
    Customers,
    Salesmen,
    Expenses,
    Invoices,
    Refunds,
    CustomOrders,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Read,
    Create,
    Update,
    Delete,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// Create, read, update or delete records of a resource.
    Crud(Resource, Action),
    /// Quick-sell, cash drawer, shift close, duplicate bill.
    PointOfSale,
    /// The shift report of one's own shifts.
    ShiftReportOwn,
    /// The shift report of anyone's shift.
    ShiftReportAny,
    DailyReport,
    SalesReport,
    /// `GET /admin`.
    AdminDashboard,
    /// `/admin/settings`.
    Settings,
    /// `/audit`.
    Audit,
}

#[cfg(test)]
mod tests {
    use super::*;
    use Action::*;
    use Resource::*;

    #[test]
    fn only_admins_manage_users() {
        for action in [Read, Create, Update, Delete] {
            assert!(Role::Admin.allows(Permission::Crud(Users, action)));
            assert!(!Role::Cashier.allows(Permission::Crud(Users, action)));
            assert!(!Role::Employee.allows(Permission::Crud(Users, action)));
        }
    }

    #[test]
    fn deletes_are_admin_only_for_every_resource() {
        for resource in [
            Users,
            Products,
            Vendors,
            Stock,
            Customers,
            Salesmen,
            Expenses,
            Invoices,
            Refunds,
            CustomOrders,
        ] {
            assert!(Role::Admin.allows(Permission::Crud(resource, Delete)));
            assert!(!Role::Cashier.allows(Permission::Crud(resource, Delete)));
            assert!(!Role::Employee.allows(Permission::Crud(resource, Delete)));
        }
    }

    #[test]
    fn cashiers_read_products_and_stock_but_not_vendors() {
        assert!(Role::Cashier.allows(Permission::Crud(Products, Read)));
        assert!(Role::Cashier.allows(Permission::Crud(Stock, Read)));
        assert!(!Role::Cashier.allows(Permission::Crud(Products, Create)));
        assert!(!Role::Cashier.allows(Permission::Crud(Vendors, Read)));
    }

    #[test]
    fn cashiers_sell_and_employees_do_not() {
        assert!(Role::Cashier.allows(Permission::PointOfSale));
        assert!(Role::Cashier.allows(Permission::Crud(Invoices, Create)));
        assert!(!Role::Employee.allows(Permission::PointOfSale));
        assert!(!Role::Employee.allows(Permission::Crud(Invoices, Create)));
        assert!(Role::Employee.allows(Permission::Crud(Invoices, Read)));
    }

    #[test]
    fn expenses_are_hidden_from_cashiers_and_write_once_for_employees() {
        assert!(!Role::Cashier.allows(Permission::Crud(Expenses, Read)));
        assert!(Role::Employee.allows(Permission::Crud(Expenses, Create)));
        assert!(!Role::Employee.allows(Permission::Crud(Expenses, Update)));
    }

    #[test]
    fn reports_follow_the_table() {
        assert!(Role::Cashier.allows(Permission::ShiftReportOwn));
        assert!(!Role::Cashier.allows(Permission::ShiftReportAny));
        assert!(Role::Cashier.allows(Permission::DailyReport));
        assert!(!Role::Cashier.allows(Permission::SalesReport));
        assert!(!Role::Employee.allows(Permission::DailyReport));
        for permission in [
            Permission::AdminDashboard,
            Permission::Settings,
            Permission::Audit,
        ] {
            assert!(Role::Admin.allows(permission));
            assert!(!Role::Cashier.allows(permission));
            assert!(!Role::Employee.allows(permission));
        }
    }

    #[test]
    fn roles_round_trip_through_their_names() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
        assert!("root".parse::<Role>().is_err());
    }
}
