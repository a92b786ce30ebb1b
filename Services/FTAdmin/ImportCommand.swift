import API
import ArgumentParser
import Foundation
import RPC
import Schema
import ServiceKit

/// `ftadmin import …`: records from the formats others write.
struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import", abstract: "Import records from standard formats.", subcommands: [IATI.self])

    struct IATI: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "iati",
            abstract: "Bring a funder's or partner's IATI 2.03 activities file in as projects; all or nothing.",
            discussion: """
                Each activity becomes a project with its organisations (found by IATI identifier, then by exact \
                name, or recorded), budget, transactions (flows to producer groups name the group exactly) and \
                results. Activities already recorded are left as they are; what the file holds and this system \
                does not keep is listed. Run with --dry-run first.
                """)
        @OptionGroup var file: ImportFile
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await withAssistance(self, global) { client in
                let xml = try file.bytes()
                let answer = try await file.send { requestID in
                    try await client.importIatiActivities(
                        AssistanceV1.ImportIatiActivitiesRequest(
                            xml: xml, validateOnly: file.dryRun, requestID: file.dryRun ? "" : requestID,
                            source: file.source),
                        options: global.callOptions(defaultSeconds: 300))
                }
                try emit(answer, global) { summary(answer) }
            }
        }

        func summary(_ answer: AssistanceV1.ImportIatiActivitiesResponse) -> String {
            var table = Table("ACTIVITY", "PROJECT", "RECORDED", "FLOWS", "RESULTS")
            var notes: [String] = []
            for activity in answer.activities {
                table.add(
                    activity.iatiIdentifier, activity.projectID.isEmpty ? "-" : activity.projectID,
                    activity.alreadyRecorded ? "already" : answer.validateOnly ? "would be" : "yes",
                    String(activity.transactions), String(activity.results))
                notes += activity.notImported.map { "\(activity.iatiIdentifier): not imported: \($0)" }
            }
            var lines = [table.render()]
            for organisation in answer.organisationsCreated {
                lines.append(
                    "organisation \(answer.validateOnly ? "to record" : "recorded"): \(organisation.name)"
                        + (organisation.iatiIdentifier.isEmpty ? "" : " (\(organisation.iatiIdentifier))"))
            }
            lines += notes
            lines.append(
                answer.validateOnly
                    ? "dry run: nothing written; the import would record \(answer.activities.filter { !$0.alreadyRecorded }.count) activities"
                    : "import \(answer.importID): \(answer.recorded) activities recorded")
            return lines.joined(separator: "\n")
        }
    }
}
