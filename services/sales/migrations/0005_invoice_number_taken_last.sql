-- A sale's lines and payments are written before its invoice row, which takes the next
-- invoice number in the same statement, last before COMMIT: the counter row
-- (sales.invoice_numbers) is then locked only for that statement, the audit events and
-- the commit, instead of for the whole of the sale's transaction. Their references to
-- the invoice are checked at COMMIT. (ON DELETE CASCADE still acts at once.)
alter table sales.invoice_items
    alter constraint invoice_items_invoice_id_fkey deferrable initially deferred;
alter table sales.payments
    alter constraint payments_invoice_id_fkey deferrable initially deferred;
