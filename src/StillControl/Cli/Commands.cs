using StillControl.Reports;

namespace StillControl.Cli;

/// <summary>
/// THE command table: every verb, its options, its help and the code it runs. The usage text, the dispatch, the error
/// messages' lists of commands and options, shell completion and docs/commands.md all come from here. To add a verb, add one
/// entry to <see cref="Table"/>; to add an option, add one <see cref="Opt"/> to its verb (see docs/commands.md).
/// </summary>
public static class Commands
{
    // Options shared by several verbs: one definition, so an option means the same everywhere.
    private static readonly Opt Journal = new("--journal", "PATH", "The batch journal (SQLite). Default: stillcontrol.db in the current folder.");
    private static readonly Opt Json = Opt.Flag("--json", "Prints JSON instead of text.");
    private static readonly Opt Config = new("--config", "FILE", "The configuration file (JSON), read after appsettings.json beside the program; STILLCONTROL_ variables are read after it.");
    private static readonly Opt Recipe = new("--recipe", "FILE", "A recipe file (JSON). Default: the built-in strong-aroma recipe.");

    /// <summary>Options of every verb that reads batches back from a journal.</summary>
    private static readonly Opt Archive = new("--archive", "PATH|CONNECTION",
        "Reads the plant's central archive (every still) instead of a journal: a SQLite file, or a PostgreSQL connection string (Host=...;Database=...).");
    private static readonly Opt[] Review = [Journal, Archive];

    private const string BatchIdHelp = "A batch id as 'stillcontrol batches' lists it, or 'latest' for the newest batch in the journal.";

    public const string Title = "stillcontrol: process control for a baijiu steam still";

    public const string ExitCodes =
        "Exit codes: 0 ran; 1 internal error; 2 bad input (the message names the option, file or key, the value and what is accepted); " +
        "3 probe found a configured sensor missing or faulted; 4 the journal's disk is full (outputs safe; free space, then start again).";

    public static readonly IReadOnlyList<Verb> Table =
    [
        new("simulate", "Runs one batch on a simulated still, with the real controller, journal and telemetry.", CommandLine.SimulateAsync)
        {
            Details = """
                At speeds above real time the batch is placed in the past so that it ends by the time it is run: first a rehearsal of the same batch (same recipe, scenario and seed; nothing journaled or published) measures how long it lasts, then the batch starts that long before now. No sample, event, MQTT message or history point ever carries a time later than the wall clock: should the batch run longer than rehearsed (a hold sent over MQTT, say), simulated time waits for the wall clock. --start places the batch yourself. At --speed 1 or below the batch starts now.
                """,
            Options =
            [
                new("--recipe", "FILE", "A recipe file (JSON). Default: the recipe last uploaded in the panel beside --journal, else the built-in strong-aroma recipe."),
                new("--scenario", "FILE", "A scenario file (JSON): faults to inject, disturbances, the seed, batch metadata."),
                new("--speed", "N|max", "Times real time, from 0.1 to 1000000, or max (as fast as the machine runs). Default: max.", "max", "1", "10", "60", "600"),
                new("--start", "TIME", "When the simulated batch starts: an ISO 8601 time (2026-11-28T06:00:00Z; UTC when no offset is given), not in the future. Default: placed so that the batch ends by now."),
                new("--seed", "N", "The seed of the simulated still's randomness (a whole number). Default: the scenario's, else 1."),
                Journal,
                Opt.Flag("--resume", "Continues the journal's interrupted batch from where the journal last saw it, with the recipe it started on."),
                new("--period-ms", "MS", "The control period in milliseconds (Control:PeriodMilliseconds, 20 to 250: an interlock acts within one period). Default: the configuration's (250)."),
                new("--mqtt", "embedded[:PORT]|HOST[:PORT]|off", "Where the simulated still publishes: a broker inside the simulation on loopback (default, port 1883), another broker, or nowhere.", "embedded", "off"),
                new("--influx", "URL", "Also writes history to this InfluxDB 2 / VictoriaMetrics URL (Influx:Url; token, org and bucket from the configuration)."),
                new("--still", "NAME", "The simulated still's name (Still:Name), in its batch ids and MQTT topics: many simulated stills can share one broker, history and plant."),
                new("--site", "NAME", "The simulated still's site (Still:Site), in its MQTT topics."),
                new("--panel", "PORT", "Serves the operator panel on 127.0.0.1:PORT while the batch runs (at real time unless --speed is given), until stopped."),
                new("--users", "FILE", "The panel's users file (Panel:UsersFile; made with 'stillcontrol users add')."),
                new("--distiller", "on|off", "off: the simulated distiller gives no commands (the crew still lays layers and closes the lid); you work the batch from the panel. Default: on.", "on", "off"),
                Opt.Flag("--json", "Prints the batch record and the run's figures as JSON (progress goes to standard error)."),
                Opt.Flag("--verbose", "Logs the host's information messages, not only failures."),
            ],
            Examples =
            [
                "stillcontrol simulate",
                "stillcontrol simulate --panel 8080 --users users.json --distiller off",
                "stillcontrol simulate --speed 60 --mqtt embedded:1884",
                "stillcontrol simulate --start 2026-11-28T06:00:00Z --influx http://127.0.0.1:8086",
                "stillcontrol simulate --resume --journal stillcontrol.db",
            ],
        },
        new("run", "The control service (systemd runs it): Hardware:Mode Simulated or Pi, in real time.", CommandLine.RunServiceAsync)
        {
            Options =
            [
                Config,
                new("--recipe", "FILE", "A recipe file (JSON). Default: the recipe last uploaded in the panel (kept beside the journal), else Recipe:Path from the configuration, else the built-in recipe."),
                new("--scenario", "FILE", "A scenario file for a simulated still (Hardware:Mode Simulated). Default: Simulation:ScenarioPath."),
                new("--journal", "PATH", "The batch journal (SQLite). Default: Journal:Path from the configuration."),
            ],
            Examples = ["stillcontrol run --config /etc/stillcontrol/stillcontrol.json"],
        },
        new("probe", "Reads every configured sensor once (or N rounds) and shows its value or why it is faulted.", CommandLine.Probe)
        {
            Details = "Also lists 1-Wire thermometers that no channel uses and each bus's frame counters. Exit 3 when a configured sensor is missing or faulted.",
            Options =
            [
                Config,
                new("--rounds", "N", "How many rounds, 1 to 100000. Default: 1."),
                new("--interval-ms", "MS", "Milliseconds between rounds, 0 to 600000. Default: 1000."),
                Opt.Flag("--json", "Prints one JSON object per round, one per line."),
            ],
            Examples = ["stillcontrol probe --config /etc/stillcontrol/stillcontrol.json --rounds 10"],
        },
        new("safe", "Drives every output to its safe state and exits (systemd's ExecStopPost).", CommandLine.Safe)
        {
            Details = "Steam closed, cooling open, receivers closed, horn and beacon on. Exit 1 when an output could not be driven (named on standard error).",
            Options = [Config],
            Examples = ["stillcontrol safe --config /etc/stillcontrol/stillcontrol.json"],
        },
        new("recipe", "Shows or checks a recipe.")
        {
            Verbs =
            [
                new("show", "Shows the effective recipe as a distiller reads it (or as JSON).", CommandLine.RecipeShow)
                {
                    Options = [Recipe, Json],
                    Examples = ["stillcontrol recipe show", "stillcontrol recipe show --recipe mine.json --json"],
                },
                new("check", "Checks a recipe file against the schema and the safety envelope; names every violation.", CommandLine.RecipeCheck)
                {
                    Args = "FILE",
                    ArgsHelp = "The recipe file (JSON).",
                    Examples = ["stillcontrol recipe check mine.json"],
                },
            ],
        },
        new("batches", "Lists the journal's batches, newest first, with filters.", CommandLine.Batches)
        {
            Options =
            [
                .. Review,
                new("--from", "DATE", "Batches started on or after this UTC day (2026-11-28) or time (2026-11-28T06:00:00Z)."),
                new("--to", "DATE", "Batches started before the end of this UTC day (the day included) or before this time."),
                new("--still", "NAME", "Batches of this still."),
                new("--recipe", "NAME", "Batches on this recipe (its name)."),
                new("--outcome", string.Join('|', JournalQuery.Outcomes), "Batches with this outcome.", [.. JournalQuery.Outcomes]),
                new("--alarm", "CODE", "Batches that raised this alarm (its code, e.g. cooling-out-high)."),
                new("--search", "TEXT", "Batches whose id, operator (who started it) or grain lot contains this text, in any case (the panel's search; with --archive, the id only)."),
                Json,
            ],
            Examples = ["stillcontrol batches", "stillcontrol batches --from 2026-11-01 --outcome aborted", "stillcontrol batches --search LOT-42"],
        },
        new("batch", "Shows one batch: phases, fractions, alarms, operator actions.", CommandLine.Batch)
        {
            Args = "ID",
            ArgsHelp = BatchIdHelp,
            BatchIds = true,
            Options = [.. Review, Json],
            Examples = ["stillcontrol batch latest", "stillcontrol batch still-1-20261128-060000 --json"],
        },
        new("report", "Writes one batch's report: one self-contained HTML file with charts.", CommandLine.Report)
        {
            Args = "ID",
            ArgsHelp = BatchIdHelp,
            BatchIds = true,
            Options = [.. Review, new("--out", "FILE", "The HTML file to write ('-': standard output). Default: <batch id>.html in the current folder.")],
            Examples = ["stillcontrol report latest", "stillcontrol report still-1-20261128-060000 --out report.html"],
        },
        new("export", "Writes one table of one batch (samples, events or fractions) as CSV or JSON.", CommandLine.Export)
        {
            Args = "ID",
            ArgsHelp = BatchIdHelp,
            BatchIds = true,
            Details = "One table per file, written exactly where --out says. The format comes from --format, else from the --out file's extension (.csv, .json).",
            Options =
            [
                .. Review,
                new("--out", "FILE", "The file to write ('-' or none: standard output)."),
                new("--format", "csv|json", "The format. Default: from the extension of --out (.csv or .json); required otherwise.", "csv", "json"),
                new("--table", string.Join('|', BatchExport.Tables), "Which table. Default: samples.", [.. BatchExport.Tables]),
            ],
            Examples =
            [
                "stillcontrol export latest --out samples.csv",
                "stillcontrol export latest --table fractions --out fractions.json",
                "stillcontrol export still-1-20261128-060000 --format csv --table events",
            ],
        },
        new("compare", "Compares two or more batches side by side (text, JSON, or an HTML file with charts).", CommandLine.Compare)
        {
            Args = "ID ID [ID...]",
            ArgsHelp = BatchIdHelp,
            BatchIds = true,
            Options = [.. Review, new("--out", "FILE.html", "Also writes the comparison as an HTML file with charts."), Json],
            Examples = ["stillcontrol compare still-1-20261127-060000 latest", "stillcontrol compare A B C --out compare.html"],
        },
        new("users", "Adds, lists and removes the operator panel's users (Panel:UsersFile).", UsersCommand.Run)
        {
            Args = "add NAME|list|remove NAME",
            ArgsHelp = "add NAME (with --role and --password-stdin), list, or remove NAME.",
            Options =
            [
                new("--role", "viewer|operator|supervisor", "The user's role: viewer (sees), operator (works batches), supervisor (recipes, users, commissioning).", "viewer", "operator", "supervisor"),
                Opt.Flag("--password-stdin", "Reads the password from standard input (one line), never from the command line."),
                new("--users", "FILE", "The users file. Default: Panel:UsersFile from the configuration (users.json)."),
                Config,
                Json,
            ],
            Examples = ["echo 'a long passphrase' | stillcontrol users add wang --role operator --password-stdin --users users.json", "stillcontrol users list --users users.json"],
        },
                new("plant", "The plant service: the board of every still, the central batch archive and notifications.", PlantCommand.RunAsync)
        {
            Options =
            [
                new("--config", "FILE", "The plant's configuration file (JSON: Plant, Mqtt, Panel, Archive, Notifications sections)."),
                new("--mqtt", "HOST[:PORT]", "The plant's broker (Mqtt:Host, Mqtt:Port)."),
                new("--archive", "PATH|CONNECTION", "The central batch archive: a SQLite file, or a PostgreSQL connection string (Host=...;Database=...)."),
                new("--panel", "PORT", "Serves the plant board on this port (Panel:Urls)."),
                new("--users", "FILE", "The board's users file (Panel:UsersFile; made with 'stillcontrol users add')."),
            ],
            Examples = ["stillcontrol plant --mqtt 127.0.0.1:1883 --archive plant.db --panel 8090 --users users.json"],
        },
                new("completion", "Prints a shell completion script (bash).", HelpVerbs.Completion)
        {
            Args = "bash",
            ArgsHelp = "The shell. Only bash is written; the script asks stillcontrol itself ([suggest] directive) for each completion.",
            Examples = ["source <(stillcontrol completion bash)", "stillcontrol completion bash > /etc/bash_completion.d/stillcontrol"],
        },
        new("help", "Shows the commands, or one command's options.", HelpVerbs.Help)
        {
            Args = "[COMMAND...]",
            ArgsHelp = "A command (and sub-command) to show the help of.",
            Options = [Opt.Flag("--markdown", "Prints the reference of every command as Markdown (the generated part of docs/commands.md).")],
            Examples = ["stillcontrol help simulate", "stillcontrol simulate --help"],
        },
    ];
}
