import API
import Domain
import RPC
import Schema
import TestSupport
import Testing

@Suite("Assistance: trainings imported from a spreadsheet", .serialized)
struct TrainingImportTests {
    typealias A = AssistanceV1

    static let header =
        "title,skill,held_on,trainer_organisation,trainer_group,trained_groups,women,men,other,cascades_from,project,notes"

    /// The Bolga cascade as a coordinator's sheet holds it: the village trainings first, each pointing at the
    /// train-the-trainers row below them.
    @Test(
        "a whole cascade from one sheet: dry run, import, a second import skips every row, a retry answers the same",
        arguments: Backend.allCases)
    func cascadeSheet(backend: Backend) async throws {
        try await withProducerProcess { producerEndpoint in
            try await withAssistance(backend, producerEndpoint: producerEndpoint) { service in
                let client = service.client
                let bolga = try await makeGroup(service.producer, "Bolga basket weavers")
                var villages: [ProducerV1.ProducerGroup] = []
                for name in ["Sumbrungu basket makers", "Zaare basket makers", "Gowrie basket makers"] {
                    villages.append(try await makeGroup(service.producer, name))
                }
                let tradeAid = try await ProjectTests.organisation(client, "Trade Aid Integrated", .development)
                // Groups and organisations by id or by name, as a coordinator knows them.
                let csv = """
                    \(Self.header)
                    Basketry in Sumbrungu,basketry,2025-05-01,,\(bolga.id),\(villages[0].id),78,4,,row 5,,
                    Basketry in Zaare,Basketry,2025-06-01,,Bolga basket weavers,zaare basket makers,76,4,,Row 5,,
                    Basketry in Gowrie,basketry,2025-07-01,,\(bolga.id),Gowrie basket makers,74,4,,row 5,,"dyes; finishing"
                    Train the trainers: basketry,Basketry,2025-03-10,trade aid integrated,,\(bolga.id),10,2,,,,

                    """

                let dryRun = try await client.importTrainings(
                    A.ImportTrainingsRequest(csv: Array((csv).utf8), validateOnly: true))
                #expect(dryRun.validateOnly && dryRun.recorded == 4 && dryRun.importID.isEmpty)
                #expect(dryRun.rows.map(\.row) == [2, 3, 4, 5] && dryRun.rows.allSatisfy { $0.trainingID.isEmpty })
                #expect(dryRun.trainees == A.PeopleCount(women: 238, men: 14))
                #expect(try await client.listTrainings(A.ListTrainingsRequest()).trainings.isEmpty)

                let imported = try await client.importTrainings(
                    A.ImportTrainingsRequest(csv: Array((csv).utf8), requestID: "sheet-1", source: "bolga.csv"))
                #expect(imported.recorded == 4 && imported.importID.hasPrefix("ti_") && !imported.validateOnly)
                #expect(imported.rows.allSatisfy { $0.trainingID.hasPrefix("tr_") && !$0.alreadyRecorded })
                let root = imported.rows[3].trainingID
                let reach = try await client.getCascadeReach(A.GetCascadeReachRequest(trainingID: root))
                #expect(reach.tiers.map(\.total) == [12, 240] && reach.tiers[1].trainings == 3)
                #expect(reach.people == A.PeopleCount(women: 238, men: 14) && reach.groupsReached == 4)
                let trainings = try await client.listTrainings(A.ListTrainingsRequest()).trainings
                let gowrie = try #require(trainings.first { $0.title == "Basketry in Gowrie" })
                #expect(gowrie.cascadesFrom == root && gowrie.notes == "dyes; finishing" && gowrie.status == .planned)
                #expect(gowrie.trainedGroupIDs == [villages[2].id] && gowrie.trainerGroupID == bolga.id)
                let zaare = try #require(trainings.first { $0.title == "Basketry in Zaare" })
                #expect(zaare.trainedGroupIDs == [villages[1].id] && zaare.trainerGroupID == bolga.id)
                #expect(trainings.allSatisfy { $0.skill == "basketry" })
                let first = try #require(trainings.first { $0.id == root })
                #expect(first.skill == "basketry" && first.trainerOrganisationID == tradeAid.id)

                // The same sheet again records nothing and says which training each row is.
                let again = try await client.importTrainings(
                    A.ImportTrainingsRequest(csv: Array((csv).utf8), requestID: "sheet-2"))
                #expect(again.recorded == 0 && again.rows.allSatisfy(\.alreadyRecorded))
                #expect(again.rows.map(\.trainingID) == imported.rows.map(\.trainingID))
                #expect(again.trainees == A.PeopleCount())
                // A retry of the first import answers as it did.
                let retry = try await client.importTrainings(
                    A.ImportTrainingsRequest(csv: Array((csv).utf8), requestID: "sheet-1"))
                #expect(retry == imported)
                #expect(try await client.listTrainings(A.ListTrainingsRequest()).trainings.count == 4)

                // A skill by its name in the catalogue, as well as by its code; a project by its title.
                let project = try await ProjectTests.project(
                    client, "Natural dyes programme", reporter: tradeAid.id,
                    budget: [CommonV1.Money(minorUnits: 100_000, currency: "USD")])
                let dyes = try await client.importTrainings(
                    A.ImportTrainingsRequest(
                        csv: Array(
                            "\(Self.header)\nDyes,Natural Dyeing,2025-08-01,Trade Aid Integrated,,\(bolga.id),5,1,,,natural dyes programme,\n"
                                .utf8),
                        requestID: "sheet-3"))
                let dyeing = try await client.listTrainings(A.ListTrainingsRequest(skill: "natural-dyeing")).trainings
                #expect(dyes.recorded == 1 && dyeing.map(\.id) == [dyes.rows[0].trainingID])
                #expect(dyeing.map(\.projectID) == [project.id])
            }
        }
    }

    @Test("every wrong cell is named by row and column, and nothing is recorded")
    func wrongCells() async throws {
        try await withProducerProcess { producerEndpoint in
            try await withAssistance(.sqlite, producerEndpoint: producerEndpoint) { service in
                let client = service.client
                let bolga = try await makeGroup(service.producer, "Bolga basket weavers")
                let zaare = try await makeGroup(service.producer, "Zaare basket makers")
                let tradeAid = try await ProjectTests.organisation(client, "Trade Aid Integrated", .development)
                func problems(_ rows: [String]) async -> [String: String] {
                    let error = await failure {
                        try await client.importTrainings(
                            A.ImportTrainingsRequest(
                                csv: Array((([Self.header] + rows).joined(separator: "\n")).utf8), requestID: "bad"))
                    }
                    #expect(error?.code == .invalidArgument)
                    return violations(error)
                }

                // What each row says on its own.
                let cells = await problems([
                    "Weaving,basketry,2025-13-01,\(tradeAid.id),,\(bolga.id),10,2,,,,",
                    "Weaving,basketry,2025-03-01,\(tradeAid.id),\(bolga.id),\(zaare.id),ten,2,,,,",
                    "Weaving,basketry,2025-03-01,,\(bolga.id),\(zaare.id),0,0,,row 5,,",
                    "Weaving,basketry,2025-03-01,,\(bolga.id),\(zaare.id),3,0,,row 4,,",
                    "Weaving,basketry,2025-03-01,,\(bolga.id),\(zaare.id),3,0,,row 99,,",
                    "Weaving,basketry,2025-03-01,,\(bolga.id),\(zaare.id),3000000,0,,,,",
                ])
                #expect(cells["row 2, held_on"]?.contains("2025-13-01") == true)
                #expect(cells["row 3, women"]?.contains("\"ten\" is not a whole number") == true)
                #expect(cells["row 3, trainer_organisation"]?.contains("exactly one trainer") == true)
                #expect(cells["row 4, women, men, other"] == "counts nobody")
                #expect(cells["row 4, cascades_from"]?.contains("row 4 → row 5 → row 4") == true)
                #expect(cells["row 6, cascades_from"]?.contains("row 99 is not a row") == true)
                #expect(cells["row 7, women"]?.contains("between 0 and 1000000") == true)
                #expect(cells.count == 7)

                // What the rows name: groups, skills, organisations, trainings, projects, and the cascade rules.
                // Two groups share a name: that name cannot say which.
                let secondZaare = try await service.producer.createProducerGroup(
                    ProducerV1.CreateProducerGroupRequest(
                        group: ProducerV1.ProducerGroup(
                            name: "Zaare Basket Makers", kind: .cooperative, country: "GH", crafts: ["baskets"],
                            members: ProducerV1.MemberCounts(women: 3)),
                        requestID: "second zaare"))
                let references = await problems([
                    "Weaving,basketry,2025-03-01,\(tradeAid.id),,\(bolga.id);pg_0000000000000000,10,2,,,,",
                    "Weaving,pottery-glazing,2025-03-01,og_0000000000000000,,\(bolga.id),10,2,,,,",
                    "Village weaving,basketry,2025-02-01,,\(zaare.id),\(bolga.id),10,2,,row 2,,",
                    "Weaving,basketry,2025-03-01,Trade Aid Integrated,,Nowhere weavers;Zaare basket makers,1,2,,,,",
                ])
                #expect(references["row 2, trained_groups"]?.contains("pg_0000000000000000") == true)
                #expect(references["row 3, skill"]?.contains("\"pottery-glazing\" is not in") == true)
                #expect(
                    references["row 3, trainer_organisation"]?.contains("no organisation has the id or name") == true)
                #expect(
                    references["row 5, trained_groups"]
                        == "no producer group has the id or name \"Nowhere weavers\" / \"Zaare basket makers\" names 2 producer groups (\([zaare.id, secondZaare.id].sorted().joined(separator: ", "))); give the id"
                )
                #expect(references.count == 4)
                let nameProblems = await problems([
                    "Weaving,basketry,2025-03-01,Trade Aid Integrated,,Nowhere weavers,1,2,,,,",
                    "Weaving,basketry,2025-03-01,Trade Aid Integrated,,Zaare basket makers,1,2,,,,",
                    "Weaving,basketry,2025-03-01,\(tradeAid.id),,\(bolga.id);bolga basket weavers,1,2,,,,",
                ])
                #expect(
                    nameProblems["row 2, trained_groups"]
                        == "no producer group has the id or name \"Nowhere weavers\"")
                #expect(nameProblems["row 3, trained_groups"]?.contains("names 2 producer groups") == true)
                #expect(nameProblems["row 4, trained_groups"]?.contains("names a group twice") == true)
                #expect(nameProblems.count == 3)
                // Cascades and projects are checked once the rows' references hold.
                let cascades = await problems([
                    "Weaving,basketry,2025-03-01,\(tradeAid.id),,\(bolga.id),10,2,,,,",
                    "Village weaving,basketry,2025-02-01,,\(zaare.id),\(bolga.id),10,2,,row 2,,",
                    "Weaving,basketry,2025-03-01,\(tradeAid.id),,\(bolga.id),1,2,,tr_0000000000000000,pj_0000000000000000,",
                ])
                #expect(cascades["row 3, cascades_from"]?.contains("before training of row 2") == true)
                #expect(cascades["row 4, cascades_from"]?.contains("tr_0000000000000000\" not found") == true)
                #expect(cascades["row 4, project"]?.contains("pj_0000000000000000\" not found") == true)
                #expect(cascades.count == 3)
                #expect(try await client.listTrainings(A.ListTrainingsRequest()).trainings.isEmpty)

                // The file as a whole.
                let header = await failure {
                    try await client.importTrainings(
                        A.ImportTrainingsRequest(
                            csv: Array(("title,skill,held_on,trainees\nx,y,2025-01-01,3").utf8), requestID: "h"))
                }
                #expect(
                    header?.code == .invalidArgument && header?.message.contains("unknown column \"trainees\"") == true)
                #expect(header?.message.contains("column \"trained_groups\" is required") == true)
                let noRequestID = await failure {
                    try await client.importTrainings(A.ImportTrainingsRequest(csv: Array((Self.header).utf8)))
                }
                #expect(noRequestID?.fieldViolations.map(\.field) == ["request_id"])
            }
        }
    }

    @Test("with the Producer service down, an import fails UNAVAILABLE naming it and records nothing")
    func producerDown() async throws {
        try await withAssistance(.sqlite, producerEndpoint: deadEndpoint()) { service in
            let client = service.client
            _ = try await ProjectTests.organisation(client, "Trade Aid Integrated", .development)
            for groups in ["pg_0123456789abcdef", "Bolga basket weavers"] {
                let down = await failure {
                    try await client.importTrainings(
                        A.ImportTrainingsRequest(
                            csv: Array(
                                ("\(Self.header)\nWeaving,basketry,2025-03-10,Trade Aid Integrated,,\(groups),3,0,,,,")
                                    .utf8),
                            requestID: "down-\(groups)"))
                }
                #expect(down?.code == .unavailable)
                #expect(down?.message.contains("importing trainings needs producer-service") == true)
            }
            #expect(try await client.listTrainings(A.ListTrainingsRequest()).trainings.isEmpty)
        }
    }
}
