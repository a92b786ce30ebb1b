import API
import Domain
import RPC
import Schema
import ServiceKit
import Storage

/// MarketplaceHandler: library.
extension MarketplaceHandler {
    public func addLibraryEntry(_ request: MarketplaceV1.AddLibraryEntryRequest, context: ServerContext) async throws
        -> MarketplaceV1.LibraryEntry
    {
        var check = FieldValidator()
        check.requestID(request.requestID)
        var entry = request.entry ?? MarketplaceV1.LibraryEntry()
        entry.title = check.text(entry.title, "entry.title", required: true)
        entry.body = check.text(entry.body, "entry.body", required: true, maxLength: 100_000)
        entry.topics = entry.topics.enumerated().map {
            check.text($1, "entry.topics[\($0)]", required: true, maxLength: 60).lowercased()
        }
        entry.crafts = entry.crafts.enumerated().map {
            check.text($1, "entry.crafts[\($0)]", required: true, maxLength: 60).lowercased()
        }
        for (index, value) in (entry.topics + entry.crafts).enumerated() where value.contains("|") {
            check.fail(index < entry.topics.count ? "entry.topics" : "entry.crafts", "\"\(value)\" must not contain |")
        }
        check.specified(entry.authorKind, "entry.author_kind")
        entry.author = check.text(entry.author, "entry.author", required: true)
        try check.check()
        return try await storage { try await store.addEntry(entry, requestID: request.requestID) }
    }

    public func getLibraryEntry(_ request: MarketplaceV1.GetLibraryEntryRequest, context: ServerContext) async throws
        -> MarketplaceV1.LibraryEntry
    {
        let id = try FieldValidator.id(request.id, "id", LibraryEntryID.self)
        return try await storage { try await store.getEntry(id) }
    }

    public func searchLibrary(_ request: MarketplaceV1.SearchLibraryRequest, context: ServerContext) async throws
        -> MarketplaceV1.SearchLibraryResponse
    {
        try await offTheIOThread {
            var check = FieldValidator()
            let words = request.query.lowercased().split { !$0.isLetter && !$0.isNumber }.map(String.init).prefix(20)
            if words.isEmpty { check.fail("query", "must contain at least one word") }
            if request.limit != 0 { check.range(request.limit, 1...100, "limit") }
            try check.check()
            return MarketplaceV1.SearchLibraryResponse(
                hits: try await storage {
                    try await store.search(
                        words: Array(words), craft: request.craft.trimmingWhitespace().lowercased(),
                        topic: request.topic.trimmingWhitespace().lowercased(),
                        limit: Int(request.limit == 0 ? 20 : request.limit))
                })
        }
    }
}
