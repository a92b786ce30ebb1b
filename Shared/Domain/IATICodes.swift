import Schema

/// The IATI codes this system writes and reads for its own records, both ways in one place, so that an exported
/// file imports back as what was exported (ftadmin's export, the Assistance service's import).
public enum IATICodes {
    /// IATI's OrganisationType code for a kind of organisation recorded here.
    public static func organisationType(_ kind: AssistanceV1.OrganisationKind) -> String {
        switch kind {
        case .member: "21"  // International NGO: fair trade organisations
        case .development: "22"  // National NGO
        case .funder: "60"  // Foundation
        case .government: "10"  // Government
        default: "90"  // Other
        }
    }

    /// The kind of organisation an IATI OrganisationType code is here (the inverse of `organisationType`, and the
    /// nearest kind for the codes it does not write).
    public static func organisationKind(_ type: String) -> AssistanceV1.OrganisationKind {
        switch type {
        case "10", "11", "15": .government
        case "21": .member
        case "60", "40", "70", "71", "72", "73": .funder
        default: .development
        }
    }

    /// IATI's TransactionType and FinanceType codes for a money flow: loans are disbursements and repayments of a
    /// reimbursable grant (finance type 421).
    public static func transaction(_ type: AssistanceV1.TransactionType) -> (type: String, finance: String?) {
        switch type {
        case .commitment: ("2", nil)
        case .expenditure: ("4", nil)
        case .loan: ("3", "421")
        case .loanRepayment: ("6", "421")
        default: ("3", nil)  // disbursements and advance payments
        }
    }

    /// FinanceType codes of loans (IATI's 41x and 42x): a disbursement with one of them is a loan.
    public static let loanFinanceTypes: Set<String> = ["410", "411", "412", "413", "414", "421", "422", "423"]
}
