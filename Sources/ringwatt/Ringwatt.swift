import ArgumentParser

@main
struct Ringwatt: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ringwatt",
        abstract: "Data-parallel training over MPI that accounts every iteration in seconds, bytes and joules.",
        discussion: "Run under mpirun: `mpirun -np 4 ringwatt train --epochs 1 --out runs/demo`.",
        subcommands: [Train.self, Report.self, Compare.self, Predict.self, BenchAllReduce.self, BenchStep.self, Power.self])
}
