// swift-tools-version: 6.0
// Not part of the project's build: it measures the two CSV libraries of the package mirror against what the
// imports promise (README "Reading spreadsheets"). Run: scripts/csv-evaluation.sh
import PackageDescription

let package = Package(
    name: "CSVEvaluation",
    dependencies: [
        .package(url: "https://github.com/yaslab/CSV.swift", exact: "2.5.2"),
        .package(url: "https://github.com/swiftcsv/SwiftCSV", exact: "0.10.0"),
    ],
    targets: [
        .executableTarget(
            name: "csv-evaluation",
            dependencies: [
                .product(name: "CSV", package: "CSV.swift"),
                .product(name: "SwiftCSV", package: "SwiftCSV"),
            ])
    ]
)
