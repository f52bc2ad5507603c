using System.CommandLine;
using CodeTether.Worker;

// The standalone worker executable; the `codetether` host CLI mounts the same command as `codetether worker`.
// ProcessTerminationTimeout = null: the generic host handles SIGTERM and drains running tasks (see WorkerCommand).
return await WorkerCommand.CreateRoot().Parse(args)
    .InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });
