import Domain
import Schema

/// What a money flow must respect, and how flows add up — per currency, never across currencies.
public enum MoneyRules {

    /// Types that pay a producer group, so they must name one.
    static let toGroup: Set<AssistanceV1.TransactionType> = [.loan, .loanRepayment, .advancePayment]

    /// Refused (FAILED_PRECONDITION) or invalid (INVALID_ARGUMENT) when a field-valid flow does not fit its
    /// project: a currency the project's budget does not use, a date outside the project, a project cancelled,
    /// closed or still in the pipeline (where only commitments may be made).
    public static func check(_ flow: Valued<AssistanceV1.Transaction>, against project: AssistanceV1.Project)
        throws(DomainError)
    {
        let currency = flow.amount.currency
        let currencies = project.budget.map(\.currency)
        if !currencies.contains(currency) {
            throw DomainError(
                .refused,
                """
                project \(project.id) does not use \(currency): its budget is in \(currencies.joined(separator: ", ")); \
                add a \(currency) budget line to the project first
                """)
        }
        switch project.status {
        case .cancelled, .closed:
            throw DomainError(
                .refused, "project \(project.id) is \(CSV.cell(project.status)): it takes no new transactions")
        case .pipeline where flow.record.type != .commitment:
            throw DomainError(
                .refused,
                """
                project \(project.id) is still in the pipeline: only commitments can be recorded until it is in \
                implementation
                """)
        default: break
        }
        let (start, end) = span(of: project)
        if let start, flow.day < start {
            throw .invalid(field: "transaction.date", "\(flow.day) is before project \(project.id) starts (\(start))")
        }
        if let end, flow.day > end {
            throw .invalid(field: "transaction.date", "\(flow.day) is after project \(project.id) ends (\(end))")
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
