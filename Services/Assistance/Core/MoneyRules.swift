import Domain
import RPC
import Schema
import ServiceKit

/// What a money flow must respect, and how flows add up — per currency, never across currencies.
public enum MoneyRules {

    /// Types that pay a producer group, so they must name one.
    static let toGroup: Set<AssistanceV1.TransactionType> = [.loan, .loanRepayment, .advancePayment]

    /// FAILED_PRECONDITION or INVALID_ARGUMENT when a (field-valid) transaction does not fit its project: a currency
    /// the project's budget does not use, a date outside the project, a project cancelled, closed or still in the
    /// pipeline (where only commitments may be made).
    public static func check(_ transaction: AssistanceV1.Transaction, against project: AssistanceV1.Project)
        throws(RPCError)
    {
        let value = try rpc { () throws(DomainError) in try transaction.value.checked("transaction.value") }
        let currencies = project.budget.map(\.currency)
        if !currencies.contains(value.currency) {
            throw RPCError(
                .failedPrecondition,
                """
                project \(project.id) does not use \(value.currency): its budget is in \(currencies.joined(separator: ", ")); \
                add a \(value.currency) budget line to the project first
                """)
        }
        switch project.status {
        case .cancelled, .closed:
            throw RPCError(
                .failedPrecondition,
                "project \(project.id) is \(CSV.cell(project.status)): it takes no new transactions")
        case .pipeline where transaction.type != .commitment:
            throw RPCError(
                .failedPrecondition,
                """
                project \(project.id) is still in the pipeline: only commitments can be recorded until it is in \
                implementation
                """)
        default: break
        }
        let day = try rpc { () throws(DomainError) in try transaction.date.day("transaction.date") }
        let (start, end) = span(of: project)
        if let start, day < start {
            throw RPCError.invalidArgument(
                field: "transaction.date", "\(day) is before project \(project.id) starts (\(start))")
        }
        if let end, day > end {
            throw RPCError.invalidArgument(
                field: "transaction.date", "\(day) is after project \(project.id) ends (\(end))")
        }
    }

    /// The project's dates: from the earlier of its planned and actual start to the later of its planned and actual
    /// end (money often moves after the planned end, while a project is finalised).
    public static func span(of project: AssistanceV1.Project) -> (ISODate?, ISODate?) {
        let starts = [project.plannedStart, project.actualStart].compactMap { $0.flatMap(ISODate.init) }
        let ends = [project.plannedEnd, project.actualEnd].compactMap { $0.flatMap(ISODate.init) }
        return (starts.min(), ends.max())
    }

    static func add(
        _ total: Int64, count: Int32, type: AssistanceV1.TransactionType, to totals: inout AssistanceV1.FlowTotals
    ) {
        switch type {
        case .commitment: totals.commitments += total
        case .disbursement: totals.disbursements += total
        case .expenditure: totals.expenditure += total
        case .loan: totals.loans += total
        case .loanRepayment: totals.loanRepayments += total
        case .advancePayment: totals.advancePayments += total
        default: break
        }
        totals.loansOutstanding = totals.loans - totals.loanRepayments
        totals.transactions += count
    }
}
