import Collectives
import Foundation
import Support

/// The MPI error policy, in one place: runs `body` with MPI initialised and finalised and turns
/// errors into one clear line and an exit status. Errors every rank raises together (bad
/// options, bad data, disagreement) are printed by rank 0 only and end the job normally; an error
/// on one rank alone aborts the job (MPI_Abort), since the others would otherwise wait for it
/// forever.
public enum MPIJob {
    /// Returns the process's exit status: what `body` returned, 1 for an error every rank
    /// raised, 2 when MPI could not start (a single-rank error aborts and does not return).
    /// With `waitMicroseconds` > 0 each wait first spins as `spin` says; `auto` counts the ranks
    /// whose `machineKey` (the physical machine: `MachineIdentity.key`) is this rank's.
    public static func run(threadLevel: MPITransport.ThreadLevel = .serialized, waitMicroseconds: Int = 0,
                           spin: CommSpin = .microseconds(0), machineKey: @autoclosure () -> String = "",
                           _ body: (Communicator) throws -> Int32) -> Int32 {
        // Open MPI keeps its session files under its orte_tmpdir_base where set, else TMPDIR, else
        // /tmp and, when it cannot, prints dozens of lines and aborts inside MPI_Init: say the one
        // thing that matters first.
        let environment = ProcessInfo.processInfo.environment
        let (name, tmp) = ["OMPI_MCA_orte_tmpdir_base", "TMPDIR"].lazy.compactMap { name in
            environment[name].flatMap { $0.isEmpty ? nil : (name, $0) }
        }.first ?? ("TMPDIR", "/tmp")
        if access(tmp, W_OK | X_OK) != 0 {
            let line = "ringwatt: error: cannot start MPI: \(name) \(tmp) is not a writable directory "
                + "(\(String(cString: strerror(errno)))); Open MPI keeps its session files there: point \(name) at one\n"
            FileHandle.standardError.write(Data(line.utf8))
            return 2
        }
        let transport: MPITransport
        do {
            transport = try MPITransport(threadLevel: threadLevel)
            transport.sleepMicroseconds = UInt32(waitMicroseconds)
        } catch {
            FileHandle.standardError.write(Data("ringwatt: error: \(error)\n".utf8))
            return 2
        }
        let comm = Communicator(transport: transport)
        do {
            if waitMicroseconds > 0 {
                let ranksOnMachine = spin == .auto ? try comm.ranksSharing(key: machineKey()) : 1
                transport.spin = spin.resolved(ranksOnMachine: ranksOnMachine, cores: BuildInfo.cpuCount)
            }
            let status = try body(comm)
            transport.finalize()
            return status
        } catch {
            let collective = (error as? RingwattError)?.isRaisedOnEveryRank ?? false
            if comm.isRoot || !collective {
                let who = comm.size > 1 && !collective ? "rank \(comm.rank): " : ""
                FileHandle.standardError.write(Data("ringwatt: error: \(who)\(error)\n".utf8))
            }
            guard collective else { transport.abort(code: 1) }
            transport.finalize()
            return 1
        }
    }
}
