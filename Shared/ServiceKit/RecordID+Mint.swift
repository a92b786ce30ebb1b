import Domain
import RPC

extension RecordID {
    /// A new id of the kind: its prefix and 16 hex digits unique within the process and unlikely to meet another
    /// process's (RequestID's generator).
    public static func mint() -> RecordID { RecordID(minting: RequestID.make()) }
}
