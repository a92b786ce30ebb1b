import API
import Domain
import Schema
import Storage

/// What each group owes in loans, per currency, while an import records money flows in date order: a loan adds to
/// it, a repayment takes from it, and a repayment of more than is owed is refused and not counted. It starts, for
/// each group and currency, from what is stored.
struct LoanBook {
    private var owed: [String: Int64] = [:]

    /// Counts `flow` if it is a loan or a repayment. Returns the problem ("owes 40.00 USD in
    /// loans by then; …") when it repays more than the group owes. With `lock`, the account's lock is taken first,
    /// as RecordTransaction takes it.
    mutating func count(_ flow: Valued<AssistanceV1.Transaction>, in session: any SQLSession, lock: Bool)
        async throws -> String?
    {
        let (transaction, value) = (flow.record, flow.amount)
        guard transaction.type == .loan || transaction.type == .loanRepayment else { return nil }
        let account = "\(transaction.groupID) \(value.currency)"
        let before: Int64
        if let known = owed[account] {
            before = known
        } else {
            if lock { try await session.lock("loans \(account)") }
            before = try await AssistanceStore.loansOutstanding(
                group: transaction.groupID, currency: value.currency, session)
        }
        if transaction.type == .loan {
            owed[account] = before.addingClamped(value.minorUnits)
            return nil
        }
        owed[account] = before
        guard value.minorUnits <= before else {
            return "owes \(CurrencyCode.format(before, value.currency)) in loans by then; a repayment of "
                + "\(value) is more than that"
        }
        owed[account] = before - value.minorUnits
        return nil
    }
}
