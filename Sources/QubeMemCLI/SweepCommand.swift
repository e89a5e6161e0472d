import ArgumentParser
import Foundation
import QubeMem
import QubeMemSystem

/// `qubemem sweep`: profile a command over a grid of parameters, one run at a time.
struct SweepCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Profile a command over a grid of parameters and tabulate measured against predicted memory.",
        discussion: """
            Each row of the grid (a CSV file with a header line, or a JSON array of objects) runs \
            the command with the row's values put in place of {column} in its arguments. Rows run \
            one after another, each in a fresh process tree started in its own process group, so \
            that no run inherits another's memory; a row that outlives --timeout has its whole \
            tree killed (SIGTERM, then SIGKILL) and is reported as a timeout. Each row is measured \
            as `qubemem profile` measures (see its help).

            The prediction for a row comes from --predict (a 'qube:' comment template), or from \
            the row's columns that are keys of the comment grammar (fields, n_obs, nside, fsky, \
            lmax, lmax_signal, path, n_bins, ...), or from a column qube_config naming each row's \
            QUBE YAML config, derived with its mask as `qubemem predict --qube-config` does (a \
            column mask gives another mask; relative paths are taken from the working directory, \
            as QUBE takes them). Ratios are measured / predicted, for the total (baseline + peak) \
            and for the peak above baseline.

            Examples:
              qubemem sweep --grid examples/sweep/qube_grid.csv -- python3 examples/qube/qube_workload.py \\
                  --fields {fields} --nside {nside} --n-obs {n_obs} --lmax {lmax} --path {path}
              qubemem sweep --grid runs.json --timeout 600 --json sweep.json --csv sweep.csv -- ./run.sh {size}
              qubemem sweep --grid configs.csv -- qube-fisher-run {qube_config}

            JSON (--json, "schema": "qubemem.sweep/1"): rows [{row, parameters {column: value}, \
            command, status (ok | exit N | SIGNAME | timeout | error), error, elapsed_seconds, \
            peak_bytes, baseline_bytes, peak_above_baseline_bytes, predicted_peak_bytes, \
            predicted_baseline_bytes, predicted_total_bytes, request_mib, model, path, \
            prediction_error}]. CSV (--csv): the text table's columns, in MiB.
            """
    )

    @Option(help: "The grid: a .csv file with a header line, or a .json array of objects.")
    var grid: String

    @Option(help: "Kill a row's whole tree after this many seconds and report it as a timeout.")
    var timeout: Double?

    @Option(help: "Sampling interval, such as 100ms (the default) or 10ms.")
    var interval: SamplingInterval = SamplingInterval(seconds: 0.1)

    @Option(help: "A 'qube:' comment template for each row's prediction, such as \"qube: fields={fields} n_obs={n_obs} lmax={lmax}\".")
    var predict: String?

    @Option(help: "Also write the table as JSON to this file.")
    var json: String?

    @Option(help: "Also write the table as CSV to this file.")
    var csv: String?

    @Option(name: .customLong("profiles-dir"), help: "Write each row's full profile (JSON) into this folder as row-N.json.")
    var profilesDir: String?

    @OptionGroup(title: "Request policy") var policyOptions: PolicyOptions

    @Argument(parsing: .postTerminator, help: "The command template, after --; {column} is replaced by the row's value.")
    var command: [String] = []

    var template: [String] { command.first == "--" ? Array(command.dropFirst()) : command }

    func run() async throws {
        try run(.standard)
    }

    func run(_ ctx: CommandContext) throws {
        guard !template.isEmpty else { throw ValidationError("Please give the command template after '--'.") }
        let loaded: SweepGrid
        do { loaded = try SweepGrid.load(path: grid) } catch let e as SweepError { throw ValidationError(e.description) }
        let policy = try policyOptions.policy()
        var rows: [SweepRow] = []
        for (i, values) in loaded.rows.enumerated() {
            let index = i + 1
            var row = SweepRow(index: index, values: values, command: [], status: .ok)
            do {
                row.command = try template.map { try SweepGrid.substitute($0, row: values) }
                if predict == nil, let config = values["qube_config"] {
                    do {
                        let run = try LoadedQubeConfig.load(config: config, mask: values["mask"], model: nil)
                        switch Predictor.predict(run.derived.spec, policy: policy) {
                        case .success(let p): row.prediction = p
                        case .failure(let e): row.predictionError = e.description
                        }
                    } catch let e as CLIError {
                        row.predictionError = e.description
                    }
                } else if let comment = try SweepGrid.comment(for: values, template: predict) {
                    switch QubeComment.parse(comment) {
                    case .success(let spec)?:
                        switch Predictor.predict(spec, policy: policy) {
                        case .success(let p): row.prediction = p
                        case .failure(let e): row.predictionError = e.description
                        }
                    case .failure(let e)?: row.predictionError = e.description
                    case nil: row.predictionError = "no 'qube:' section in '\(comment)'"
                    }
                }
            } catch let e as SweepError {
                throw ValidationError(e.description)
            }
            ctx.err("sweep: row \(index)/\(loaded.rows.count): \(row.command.joined(separator: " "))\n")
            var options = Profiler.Options(command: row.command)
            options.interval = interval.seconds
            options.timeout = timeout
            options.newProcessGroup = true
            do {
                var result = try Profiler(options: options).run()
                result.rebase(at: nil, qubeDefault: row.prediction != nil)
                row.result = result
                row.status = result.timedOut ? .timeout : (result.exit == .exited(0) ? .ok : .failed(result.exit))
                if let dir = profilesDir {
                    try ProfileOutputs.writeFile(dir + "/row-\(index).json",
                                                 ProfileReport.json(result, comparison: row.prediction.map { Comparison(prediction: $0, result: result) }) + "\n")
                }
            } catch let e as Profiler.RunError {
                row.status = .error(e.description)
            }
            rows.append(row)
        }
        ctx.out(SweepTable.text(rows, columns: loaded.columns))
        if let json { try ProfileOutputs.writeFile(json, SweepTable.json(rows, columns: loaded.columns) + "\n") }
        if let csv { try ProfileOutputs.writeFile(csv, SweepTable.csv(rows, columns: loaded.columns)) }
    }
}
