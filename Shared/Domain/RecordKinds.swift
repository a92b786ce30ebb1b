/// Every kind of record the services give ids to, in one place, so that no two share a prefix (a test checks it)
/// and a service can tell what another's id names: Assistance and Marketplace-Info keep producer groups' ids.
public enum RecordKinds {
    // Producer
    public enum ProducerGroup: RecordKind {
        public static let prefix = "pg"
        public static let noun = "producer group"
    }
    public enum BuyerRelationship: RecordKind {
        public static let prefix = "br"
        public static let noun = "buyer relationship"
    }
    public enum GroupConnection: RecordKind {
        public static let prefix = "gc"
        public static let noun = "group connection"
    }
    public enum Contact: RecordKind {
        public static let prefix = "dc"
        public static let noun = "contact"
    }
    public enum FollowUp: RecordKind {
        public static let prefix = "fu"
        public static let noun = "follow-up"
    }
    public enum SkillAssessment: RecordKind {
        public static let prefix = "sa"
        public static let noun = "skill assessment"
    }
    public enum GroupImport: RecordKind {
        public static let prefix = "imp"
        public static let noun = "group import"
    }
    // Assistance
    public enum Organisation: RecordKind {
        public static let prefix = "og"
        public static let noun = "organisation"
    }
    public enum Project: RecordKind {
        public static let prefix = "pj"
        public static let noun = "project"
    }
    public enum Indicator: RecordKind {
        public static let prefix = "in"
        public static let noun = "indicator"
    }
    public enum Transaction: RecordKind {
        public static let prefix = "tx"
        public static let noun = "transaction"
    }
    public enum Training: RecordKind {
        public static let prefix = "tr"
        public static let noun = "training"
    }
    public enum Equipment: RecordKind {
        public static let prefix = "eq"
        public static let noun = "equipment"
    }
    public enum Referral: RecordKind {
        public static let prefix = "rf"
        public static let noun = "referral"
    }
    public enum IATIImport: RecordKind {
        public static let prefix = "ii"
        public static let noun = "IATI import"
    }
    public enum TrainingImport: RecordKind {
        public static let prefix = "ti"
        public static let noun = "trainings import"
    }
    public enum TransactionImport: RecordKind {
        public static let prefix = "xi"
        public static let noun = "money-flows import"
    }
    // Marketplace-Info
    public enum Market: RecordKind {
        public static let prefix = "mk"
        public static let noun = "market"
    }
    public enum RetailPartner: RecordKind {
        public static let prefix = "rp"
        public static let noun = "retail partner"
    }
    public enum PriceObservation: RecordKind {
        public static let prefix = "po"
        public static let noun = "price observation"
    }
    public enum PriceAlert: RecordKind {
        public static let prefix = "pa"
        public static let noun = "price alert"
    }
    public enum PriceImport: RecordKind {
        public static let prefix = "pi"
        public static let noun = "price import"
    }
    public enum DemandSignal: RecordKind {
        public static let prefix = "ds"
        public static let noun = "demand signal"
    }
    public enum DemandAnswer: RecordKind {
        public static let prefix = "da"
        public static let noun = "demand answer"
    }
    public enum LibraryEntry: RecordKind {
        public static let prefix = "le"
        public static let noun = "library entry"
    }
    public enum DiscussionGroup: RecordKind {
        public static let prefix = "dg"
        public static let noun = "discussion group"
    }
    public enum DiscussionThread: RecordKind {
        public static let prefix = "dt"
        public static let noun = "discussion thread"
    }
    public enum Post: RecordKind {
        public static let prefix = "ps"
        public static let noun = "post"
    }

    /// Every kind, for telling what an id names.
    public static let all: [any RecordKind.Type] = [
        ProducerGroup.self, BuyerRelationship.self, GroupConnection.self, Contact.self, FollowUp.self,
        SkillAssessment.self, GroupImport.self, Organisation.self, Project.self, Indicator.self, Transaction.self,
        Training.self, Equipment.self, Referral.self, IATIImport.self, TrainingImport.self, TransactionImport.self,
        Market.self, RetailPartner.self, PriceObservation.self, PriceAlert.self, PriceImport.self, DemandSignal.self,
        DemandAnswer.self, LibraryEntry.self, DiscussionGroup.self, DiscussionThread.self, Post.self,
    ]

    /// The kind whose prefix `text` starts with, if any.
    public static func kind(of text: String) -> (any RecordKind.Type)? {
        all.first { text.hasPrefix($0.prefix + "_") }
    }
}

public typealias ProducerGroupID = RecordID<RecordKinds.ProducerGroup>
public typealias BuyerRelationshipID = RecordID<RecordKinds.BuyerRelationship>
public typealias GroupConnectionID = RecordID<RecordKinds.GroupConnection>
public typealias ContactID = RecordID<RecordKinds.Contact>
public typealias FollowUpID = RecordID<RecordKinds.FollowUp>
public typealias SkillAssessmentID = RecordID<RecordKinds.SkillAssessment>
public typealias GroupImportID = RecordID<RecordKinds.GroupImport>
public typealias OrganisationID = RecordID<RecordKinds.Organisation>
public typealias ProjectID = RecordID<RecordKinds.Project>
public typealias IndicatorID = RecordID<RecordKinds.Indicator>
public typealias TransactionID = RecordID<RecordKinds.Transaction>
public typealias TrainingID = RecordID<RecordKinds.Training>
public typealias EquipmentID = RecordID<RecordKinds.Equipment>
public typealias ReferralID = RecordID<RecordKinds.Referral>
public typealias IATIImportID = RecordID<RecordKinds.IATIImport>
public typealias TrainingImportID = RecordID<RecordKinds.TrainingImport>
public typealias TransactionImportID = RecordID<RecordKinds.TransactionImport>
public typealias MarketID = RecordID<RecordKinds.Market>
public typealias RetailPartnerID = RecordID<RecordKinds.RetailPartner>
public typealias PriceObservationID = RecordID<RecordKinds.PriceObservation>
public typealias PriceAlertID = RecordID<RecordKinds.PriceAlert>
public typealias PriceImportID = RecordID<RecordKinds.PriceImport>
public typealias DemandSignalID = RecordID<RecordKinds.DemandSignal>
public typealias DemandAnswerID = RecordID<RecordKinds.DemandAnswer>
public typealias LibraryEntryID = RecordID<RecordKinds.LibraryEntry>
public typealias DiscussionGroupID = RecordID<RecordKinds.DiscussionGroup>
public typealias DiscussionThreadID = RecordID<RecordKinds.DiscussionThread>
public typealias PostID = RecordID<RecordKinds.Post>
