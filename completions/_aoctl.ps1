
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'aoctl' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'aoctl'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'aoctl' {
            [CompletionResult]::new('--socket', '--socket', [CompletionResultType]::ParameterName, 'The daemon''s socket')
            [CompletionResult]::new('--data-dir', '--data-dir', [CompletionResultType]::ParameterName, 'The data directory (passed to a daemon aoctl starts)')
            [CompletionResult]::new('--tmux-socket', '--tmux-socket', [CompletionResultType]::ParameterName, 'ao''s tmux server label or socket path (passed to a daemon aoctl starts)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The daemon''s configuration file (passed to a daemon aoctl starts)')
            [CompletionResult]::new('--no-autostart', '--no-autostart', [CompletionResultType]::ParameterName, 'Never start the daemon; fail with exit code 3 when it is not running')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print the cause chain of errors')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print the cause chain of errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('spawn', 'spawn', [CompletionResultType]::ParameterValue, 'Start a new agent session in its own worktree and tmux session')
            [CompletionResult]::new('ls', 'ls', [CompletionResultType]::ParameterValue, 'List sessions')
            [CompletionResult]::new('get', 'get', [CompletionResultType]::ParameterValue, 'Show one session')
            [CompletionResult]::new('why', 'why', [CompletionResultType]::ParameterValue, 'Explain a session''s status: the evidence behind each axis and the last transitions')
            [CompletionResult]::new('kill', 'kill', [CompletionResultType]::ParameterValue, 'Stop a session''s agent and move its worktree to the trash (a dirty worktree stays)')
            [CompletionResult]::new('send', 'send', [CompletionResultType]::ParameterValue, 'Type a message into a session''s agent')
            [CompletionResult]::new('tail', 'tail', [CompletionResultType]::ParameterValue, 'Show a session''s output')
            [CompletionResult]::new('restore', 'restore', [CompletionResultType]::ParameterValue, 'Relaunch a killed session in its worktree (resuming the agent''s conversation when it can)')
            [CompletionResult]::new('cleanup', 'cleanup', [CompletionResultType]::ParameterValue, 'Move the worktrees of ended sessions to the trash (dirty ones stay unless --preserve); optionally forget ended sessions and delete merged ao/* branches')
            [CompletionResult]::new('forget', 'forget', [CompletionResultType]::ParameterValue, 'Drop the records of ended sessions (their change-log history stays)')
            [CompletionResult]::new('trash', 'trash', [CompletionResultType]::ParameterValue, 'The worktrees of ended sessions: list, restore, empty')
            [CompletionResult]::new('attach', 'attach', [CompletionResultType]::ParameterValue, 'Attach your terminal to a session''s tmux session')
            [CompletionResult]::new('events', 'events', [CompletionResultType]::ParameterValue, 'Show the change log (session transitions)')
            [CompletionResult]::new('wait', 'wait', [CompletionResultType]::ParameterValue, 'Wait until sessions reach a status')
            [CompletionResult]::new('project', 'project', [CompletionResultType]::ParameterValue, 'Manage projects (git repositories sessions are spawned from)')
            [CompletionResult]::new('daemon', 'daemon', [CompletionResultType]::ParameterValue, 'Start, stop or inspect the daemon')
            [CompletionResult]::new('doctor', 'doctor', [CompletionResultType]::ParameterValue, 'Check the configuration file, the daemon, tmux, git, the socket, the store and the agent CLIs (a missing agent CLI is a warning)')
            [CompletionResult]::new('logs', 'logs', [CompletionResultType]::ParameterValue, 'The daemon''s log (`<data dir>/aod.log`), its last lines; `-f` follows it')
            [CompletionResult]::new('config', 'config', [CompletionResultType]::ParameterValue, 'Check the configuration file without a daemon')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('hook', 'hook', [CompletionResultType]::ParameterValue, 'The callback agent hooks run (never fails; see `hook.rs`)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'aoctl;spawn' {
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'The project (default: the git repository you are in, registered on first use)')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'The project (default: the git repository you are in, registered on first use)')
            [CompletionResult]::new('--agent', '--agent', [CompletionResultType]::ParameterName, 'The agent harness (`command`, `claude-code`, `codex`, or a configured name)')
            [CompletionResult]::new('--cmd', '--cmd', [CompletionResultType]::ParameterName, 'For the `command` agent: the program and its arguments, split like a shell would (no shell runs)')
            [CompletionResult]::new('--branch', '--branch', [CompletionResultType]::ParameterName, 'The branch to work on (default `ao/<session id>`)')
            [CompletionResult]::new('--issue', '--issue', [CompletionResultType]::ParameterName, 'An issue reference, exported as AO_ISSUE_ID')
            [CompletionResult]::new('--model', '--model', [CompletionResultType]::ParameterName, 'The agent''s model')
            [CompletionResult]::new('--permission-mode', '--permission-mode', [CompletionResultType]::ParameterName, 'The agent''s permission mode')
            [CompletionResult]::new('--env', '--env', [CompletionResultType]::ParameterName, 'A variable for the agent, KEY=VALUE (repeatable; wins over --env-file and the project''s env). The agent gets no other variable of yours but PATH')
            [CompletionResult]::new('--env-file', '--env-file', [CompletionResultType]::ParameterName, 'Variables for the agent from a dotenv file (KEY=VALUE lines, # comments, quotes)')
            [CompletionResult]::new('--socket', '--socket', [CompletionResultType]::ParameterName, 'The daemon''s socket')
            [CompletionResult]::new('--data-dir', '--data-dir', [CompletionResultType]::ParameterName, 'The data directory (passed to a daemon aoctl starts)')
            [CompletionResult]::new('--tmux-socket', '--tmux-socket', [CompletionResultType]::ParameterName, 'ao''s tmux server label or socket path (passed to a daemon aoctl starts)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The daemon''s configuration file (passed to a daemon aoctl starts)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the session as JSON')
            [CompletionResult]::new('--no-autostart', '--no-autostart', [CompletionResultType]::ParameterName, 'Never start the daemon; fail with exit code 3 when it is not running')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print the cause chain of errors')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print the cause chain of errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'aoctl;ls' {
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Only this project''s sessions')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'Only this project''s sessions')
            [CompletionResult]::new('--socket', '--socket', [CompletionResultType]::ParameterName, 'The daemon''s socket')
            [CompletionResult]::new('--data-dir', '--data-dir', [CompletionResultType]::ParameterName, 'The data directory (passed to a daemon aoctl starts)')
            [CompletionResult]::new('--tmux-socket', '--tmux-socket', [CompletionResultType]::ParameterName, 'ao''s tmux server label or socket path (passed to a daemon aoctl starts)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The daemon''s configuration file (passed to a daemon aoctl starts)')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Include killed, errored and cleaned-up sessions')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the result as JSON')
            [CompletionResult]::new('--wide', '--wide', [CompletionResultType]::ParameterName, 'Show long branches whole instead of cutting them to fit the terminal')
            [CompletionResult]::new('--watch', '--watch', [CompletionResultType]::ParameterName, 'Redraw every 2 seconds until interrupted')
            [CompletionResult]::new('--no-autostart', '--no-autostart', [CompletionResultType]::ParameterName, 'Never start the daemon; fail with exit code 3 when it is not running')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print the cause chain of errors')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print the cause chain of errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'aoctl;get' {
            [CompletionResult]::new('--socket', '--socket', [CompletionResultType]::ParameterName, 'The daemon''s socket')
            [CompletionResult]::new('--data-dir', '--data-dir', [CompletionResultType]::ParameterName, 'The data directory (passed to a daemon aoctl starts)')
            [CompletionResult]::new('--tmux-socket', '--tmux-socket', [CompletionResultType]::ParameterName, 'ao''s tmux server label or socket path (passed to a daemon aoctl starts)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The daemon''s configuration file (passed to a daemon aoctl starts)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the result as JSON')
            [CompletionResult]::new('--no-autostart', '--no-autostart', [CompletionResultType]::ParameterName, 'Never start the daemon; fail with exit code 3 when it is not running')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print the cause chain of errors')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print the cause chain of errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'aoctl;why' {
            [CompletionResult]::new('--limit', '--limit', [CompletionResultType]::ParameterName, 'How many of the last transitions to show')
            [CompletionResult]::new('--socket', '--socket', [CompletionResultType]::ParameterName, 'The daemon''s socket')
            [CompletionResult]::new('--data-dir', '--data-dir', [CompletionResultType]::ParameterName, 'The data directory (passed to a daemon aoctl starts)')
            [CompletionResult]::new('--tmux-socket', '--tmux-socket', [CompletionResultType]::ParameterName, 'ao''s tmux server label or socket path (passed to a daemon aoctl starts)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The daemon''s configuration file (passed to a daemon aoctl starts)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'The report as one JSON object')
            [CompletionResult]::new('--no-autostart', '--no-autostart', [CompletionResultType]::ParameterName, 'Never start the daemon; fail with exit code 3 when it is not running')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print the cause chain of errors')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print the cause chain of errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'aoctl;kill' {
            [CompletionResult]::new('--socket', '--socket', [CompletionResultType]::ParameterName, 'The daemon''s socket')
            [CompletionResult]::new('--data-dir', '--data-dir', [CompletionResultType]::ParameterName, 'The data directory (passed to a daemon aoctl starts)')
            [CompletionResult]::new('--tmux-socket', '--tmux-socket', [CompletionResultType]::ParameterName, 'ao''s tmux server label or socket path (passed to a daemon aoctl starts)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The daemon''s configuration file (passed to a daemon aoctl starts)')
            [CompletionResult]::new('--preserve', '--preserve', [CompletionResultType]::ParameterName, 'Stash uncommitted work into refs/ao/preserved/<id>, then move the worktree to the trash')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the result as JSON')
            [CompletionResult]::new('--no-autostart', '--no-autostart', [CompletionResultType]::ParameterName, 'Never start the daemon; fail with exit code 3 when it is not running')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print the cause chain of errors')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print the cause chain of errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'aoctl;send' {
            [CompletionResult]::new('--file', '--file', [CompletionResultType]::ParameterName, 'Read the message from a file (`-` for stdin)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long to wait for the message to be typed (default 60s); a message still queued then stays queued')
            [CompletionResult]::new('--socket', '--socket', [CompletionResultType]::ParameterName, 'The daemon''s socket')
            [CompletionResult]::new('--data-dir', '--data-dir', [CompletionResultType]::ParameterName, 'The data directory (passed to a daemon aoctl starts)')
            [CompletionResult]::new('--tmux-socket', '--tmux-socket', [CompletionResultType]::ParameterName, 'ao''s tmux server label or socket path (passed to a daemon aoctl starts)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The daemon''s configuration file (passed to a daemon aoctl starts)')
            [CompletionResult]::new('--no-wait', '--no-wait', [CompletionResultType]::ParameterName, 'Return once the message is queued')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Do not wait for a draft in the agent''s input line: clear it, send, and type it back')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the result as JSON')
            [CompletionResult]::new('--no-autostart', '--no-autostart', [CompletionResultType]::ParameterName, 'Never start the daemon; fail with exit code 3 when it is not running')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print the cause chain of errors')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print the cause chain of errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'aoctl;tail' {
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Lines to show first, from the end of the session''s output log (all it holds when it holds fewer). A last line without a newline counts as a line')
            [CompletionResult]::new('--lines', '--lines', [CompletionResultType]::ParameterName, 'Lines to show first, from the end of the session''s output log (all it holds when it holds fewer). A last line without a newline counts as a line')
            [CompletionResult]::new('--socket', '--socket', [CompletionResultType]::ParameterName, 'The daemon''s socket')
            [CompletionResult]::new('--data-dir', '--data-dir', [CompletionResultType]::ParameterName, 'The data directory (passed to a daemon aoctl starts)')
            [CompletionResult]::new('--tmux-socket', '--tmux-socket', [CompletionResultType]::ParameterName, 'ao''s tmux server label or socket path (passed to a daemon aoctl starts)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The daemon''s configuration file (passed to a daemon aoctl starts)')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Keep following new output')
            [CompletionResult]::new('--follow', '--follow', [CompletionResultType]::ParameterName, 'Keep following new output')
            [CompletionResult]::new('--no-autostart', '--no-autostart', [CompletionResultType]::ParameterName, 'Never start the daemon; fail with exit code 3 when it is not running')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print the cause chain of errors')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print the cause chain of errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'aoctl;restore' {
            [CompletionResult]::new('--socket', '--socket', [CompletionResultType]::ParameterName, 'The daemon''s socket')
            [CompletionResult]::new('--data-dir', '--data-dir', [CompletionResultType]::ParameterName, 'The data directory (passed to a daemon aoctl starts)')
            [CompletionResult]::new('--tmux-socket', '--tmux-socket', [CompletionResultType]::ParameterName, 'ao''s tmux server label or socket path (passed to a daemon aoctl starts)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The daemon''s configuration file (passed to a daemon aoctl starts)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the result as JSON')
            [CompletionResult]::new('--no-autostart', '--no-autostart', [CompletionResultType]::ParameterName, 'Never start the daemon; fail with exit code 3 when it is not running')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print the cause chain of errors')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print the cause chain of errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'aoctl;cleanup' {
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'p')
            [CompletionResult]::new('--project', '--project', [CompletionResultType]::ParameterName, 'project')
            [CompletionResult]::new('--older-than', '--older-than', [CompletionResultType]::ParameterName, 'With --forget-ended: only sessions whose last change is at least this old (e.g. 7d)')
            [CompletionResult]::new('--socket', '--socket', [CompletionResultType]::ParameterName, 'The daemon''s socket')
            [CompletionResult]::new('--data-dir', '--data-dir', [CompletionResultType]::ParameterName, 'The data directory (passed to a daemon aoctl starts)')
            [CompletionResult]::new('--tmux-socket', '--tmux-socket', [CompletionResultType]::ParameterName, 'ao''s tmux server label or socket path (passed to a daemon aoctl starts)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The daemon''s configuration file (passed to a daemon aoctl starts)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show what would be moved, forgotten or deleted; change nothing')
            [CompletionResult]::new('--preserve', '--preserve', [CompletionResultType]::ParameterName, 'Stash uncommitted work into refs/ao/preserved/<id> before moving')
            [CompletionResult]::new('--forget-ended', '--forget-ended', [CompletionResultType]::ParameterName, 'Then forget ended sessions whose worktree is gone: `ls --all` stops listing them; their change-log history stays and their ids are never reused')
            [CompletionResult]::new('--branches', '--branches', [CompletionResultType]::ParameterName, 'Then delete ao/* branches checked out nowhere whose every commit is on the project''s base branch (merged, or never moved); any other branch is kept, with why')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'json')
            [CompletionResult]::new('--no-autostart', '--no-autostart', [CompletionResultType]::ParameterName, 'Never start the daemon; fail with exit code 3 when it is not running')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print the cause chain of errors')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print the cause chain of errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'aoctl;forget' {
            [CompletionResult]::new('--socket', '--socket', [CompletionResultType]::ParameterName, 'The daemon''s socket')
            [CompletionResult]::new('--data-dir', '--data-dir', [CompletionResultType]::ParameterName, 'The data directory (passed to a daemon aoctl starts)')
            [CompletionResult]::new('--tmux-socket', '--tmux-socket', [CompletionResultType]::ParameterName, 'ao''s tmux server label or socket path (passed to a daemon aoctl starts)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The daemon''s configuration file (passed to a daemon aoctl starts)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show what would be forgotten; change nothing')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'json')
            [CompletionResult]::new('--no-autostart', '--no-autostart', [CompletionResultType]::ParameterName, 'Never start the daemon; fail with exit code 3 when it is not running')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print the cause chain of errors')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print the cause chain of errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'aoctl;trash' {
            [CompletionResult]::new('--socket', '--socket', [CompletionResultType]::ParameterName, 'The daemon''s socket')
            [CompletionResult]::new('--data-dir', '--data-dir', [CompletionResultType]::ParameterName, 'The data directory (passed to a daemon aoctl starts)')
            [CompletionResult]::new('--tmux-socket', '--tmux-socket', [CompletionResultType]::ParameterName, 'ao''s tmux server label or socket path (passed to a daemon aoctl starts)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The daemon''s configuration file (passed to a daemon aoctl starts)')
            [CompletionResult]::new('--no-autostart', '--no-autostart', [CompletionResultType]::ParameterName, 'Never start the daemon; fail with exit code 3 when it is not running')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print the cause chain of errors')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print the cause chain of errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('ls', 'ls', [CompletionResultType]::ParameterValue, 'List the trash, oldest first')
            [CompletionResult]::new('restore', 'restore', [CompletionResultType]::ParameterValue, 'Move an entry back to its original path, as a registered worktree on its branch')
            [CompletionResult]::new('empty', 'empty', [CompletionResultType]::ParameterValue, 'Delete trash entries (all of them, or those older than --older-than)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'aoctl;trash;ls' {
            [CompletionResult]::new('--socket', '--socket', [CompletionResultType]::ParameterName, 'The daemon''s socket')
            [CompletionResult]::new('--data-dir', '--data-dir', [CompletionResultType]::ParameterName, 'The data directory (passed to a daemon aoctl starts)')
            [CompletionResult]::new('--tmux-socket', '--tmux-socket', [CompletionResultType]::ParameterName, 'ao''s tmux server label or socket path (passed to a daemon aoctl starts)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The daemon''s configuration file (passed to a daemon aoctl starts)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the result as JSON')
            [CompletionResult]::new('--no-autostart', '--no-autostart', [CompletionResultType]::ParameterName, 'Never start the daemon; fail with exit code 3 when it is not running')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print the cause chain of errors')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print the cause chain of errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'aoctl;trash;restore' {
            [CompletionResult]::new('--socket', '--socket', [CompletionResultType]::ParameterName, 'The daemon''s socket')
            [CompletionResult]::new('--data-dir', '--data-dir', [CompletionResultType]::ParameterName, 'The data directory (passed to a daemon aoctl starts)')
            [CompletionResult]::new('--tmux-socket', '--tmux-socket', [CompletionResultType]::ParameterName, 'ao''s tmux server label or socket path (passed to a daemon aoctl starts)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The daemon''s configuration file (passed to a daemon aoctl starts)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the result as JSON')
            [CompletionResult]::new('--no-autostart', '--no-autostart', [CompletionResultType]::ParameterName, 'Never start the daemon; fail with exit code 3 when it is not running')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print the cause chain of errors')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print the cause chain of errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'aoctl;trash;empty' {
            [CompletionResult]::new('--older-than', '--older-than', [CompletionResultType]::ParameterName, 'Only entries trashed longer ago than this (e.g. 3d, 12h)')
            [CompletionResult]::new('--socket', '--socket', [CompletionResultType]::ParameterName, 'The daemon''s socket')
            [CompletionResult]::new('--data-dir', '--data-dir', [CompletionResultType]::ParameterName, 'The data directory (passed to a daemon aoctl starts)')
            [CompletionResult]::new('--tmux-socket', '--tmux-socket', [CompletionResultType]::ParameterName, 'ao''s tmux server label or socket path (passed to a daemon aoctl starts)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The daemon''s configuration file (passed to a daemon aoctl starts)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the result as JSON')
            [CompletionResult]::new('--no-autostart', '--no-autostart', [CompletionResultType]::ParameterName, 'Never start the daemon; fail with exit code 3 when it is not running')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print the cause chain of errors')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print the cause chain of errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'aoctl;trash;help' {
            [CompletionResult]::new('ls', 'ls', [CompletionResultType]::ParameterValue, 'List the trash, oldest first')
            [CompletionResult]::new('restore', 'restore', [CompletionResultType]::ParameterValue, 'Move an entry back to its original path, as a registered worktree on its branch')
            [CompletionResult]::new('empty', 'empty', [CompletionResultType]::ParameterValue, 'Delete trash entries (all of them, or those older than --older-than)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'aoctl;trash;help;ls' {
            break
        }
        'aoctl;trash;help;restore' {
            break
        }
        'aoctl;trash;help;empty' {
            break
        }
        'aoctl;trash;help;help' {
            break
        }
        'aoctl;attach' {
            [CompletionResult]::new('--socket', '--socket', [CompletionResultType]::ParameterName, 'The daemon''s socket')
            [CompletionResult]::new('--data-dir', '--data-dir', [CompletionResultType]::ParameterName, 'The data directory (passed to a daemon aoctl starts)')
            [CompletionResult]::new('--tmux-socket', '--tmux-socket', [CompletionResultType]::ParameterName, 'ao''s tmux server label or socket path (passed to a daemon aoctl starts)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The daemon''s configuration file (passed to a daemon aoctl starts)')
            [CompletionResult]::new('--no-autostart', '--no-autostart', [CompletionResultType]::ParameterName, 'Never start the daemon; fail with exit code 3 when it is not running')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print the cause chain of errors')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print the cause chain of errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'aoctl;events' {
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'Start after this sequence number')
            [CompletionResult]::new('--session', '--session', [CompletionResultType]::ParameterName, 'Only this session''s events')
            [CompletionResult]::new('--socket', '--socket', [CompletionResultType]::ParameterName, 'The daemon''s socket')
            [CompletionResult]::new('--data-dir', '--data-dir', [CompletionResultType]::ParameterName, 'The data directory (passed to a daemon aoctl starts)')
            [CompletionResult]::new('--tmux-socket', '--tmux-socket', [CompletionResultType]::ParameterName, 'ao''s tmux server label or socket path (passed to a daemon aoctl starts)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The daemon''s configuration file (passed to a daemon aoctl starts)')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Keep following new events')
            [CompletionResult]::new('--follow', '--follow', [CompletionResultType]::ParameterName, 'Keep following new events')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'One JSON array (or, with --follow, one JSON object per line)')
            [CompletionResult]::new('--no-autostart', '--no-autostart', [CompletionResultType]::ParameterName, 'Never start the daemon; fail with exit code 3 when it is not running')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print the cause chain of errors')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print the cause chain of errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'aoctl;wait' {
            [CompletionResult]::new('--status', '--status', [CompletionResultType]::ParameterName, 'Statuses to wait for, comma separated (e.g. idle,needs_input)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Give up after this long (e.g. 30s, 5m); exit code 1')
            [CompletionResult]::new('--socket', '--socket', [CompletionResultType]::ParameterName, 'The daemon''s socket')
            [CompletionResult]::new('--data-dir', '--data-dir', [CompletionResultType]::ParameterName, 'The data directory (passed to a daemon aoctl starts)')
            [CompletionResult]::new('--tmux-socket', '--tmux-socket', [CompletionResultType]::ParameterName, 'ao''s tmux server label or socket path (passed to a daemon aoctl starts)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The daemon''s configuration file (passed to a daemon aoctl starts)')
            [CompletionResult]::new('--any', '--any', [CompletionResultType]::ParameterName, 'Return when any session matches (default: all)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the result as JSON')
            [CompletionResult]::new('--no-autostart', '--no-autostart', [CompletionResultType]::ParameterName, 'Never start the daemon; fail with exit code 3 when it is not running')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print the cause chain of errors')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print the cause chain of errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'aoctl;project' {
            [CompletionResult]::new('--socket', '--socket', [CompletionResultType]::ParameterName, 'The daemon''s socket')
            [CompletionResult]::new('--data-dir', '--data-dir', [CompletionResultType]::ParameterName, 'The data directory (passed to a daemon aoctl starts)')
            [CompletionResult]::new('--tmux-socket', '--tmux-socket', [CompletionResultType]::ParameterName, 'ao''s tmux server label or socket path (passed to a daemon aoctl starts)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The daemon''s configuration file (passed to a daemon aoctl starts)')
            [CompletionResult]::new('--no-autostart', '--no-autostart', [CompletionResultType]::ParameterName, 'Never start the daemon; fail with exit code 3 when it is not running')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print the cause chain of errors')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print the cause chain of errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Register a repository')
            [CompletionResult]::new('ls', 'ls', [CompletionResultType]::ParameterValue, 'List projects')
            [CompletionResult]::new('rm', 'rm', [CompletionResultType]::ParameterValue, 'Unregister a project (refused while it has live sessions)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'aoctl;project;add' {
            [CompletionResult]::new('--base', '--base', [CompletionResultType]::ParameterName, 'The branch new branches start from (default: origin''s HEAD)')
            [CompletionResult]::new('--agent', '--agent', [CompletionResultType]::ParameterName, 'The default agent for this project')
            [CompletionResult]::new('--symlink', '--symlink', [CompletionResultType]::ParameterName, 'A repository file to symlink into every new worktree (repeatable)')
            [CompletionResult]::new('--copy', '--copy', [CompletionResultType]::ParameterName, 'A repository file or directory to copy into every new worktree (repeatable)')
            [CompletionResult]::new('--post-create', '--post-create', [CompletionResultType]::ParameterName, 'A command to run in every new worktree before the agent starts (repeatable; split like a shell would, no shell runs)')
            [CompletionResult]::new('--exclude', '--exclude', [CompletionResultType]::ParameterName, 'A gitignore pattern for every new worktree''s exclude file, for what post-create commands make (repeatable; e.g. `node_modules/`)')
            [CompletionResult]::new('--socket', '--socket', [CompletionResultType]::ParameterName, 'The daemon''s socket')
            [CompletionResult]::new('--data-dir', '--data-dir', [CompletionResultType]::ParameterName, 'The data directory (passed to a daemon aoctl starts)')
            [CompletionResult]::new('--tmux-socket', '--tmux-socket', [CompletionResultType]::ParameterName, 'ao''s tmux server label or socket path (passed to a daemon aoctl starts)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The daemon''s configuration file (passed to a daemon aoctl starts)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the result as JSON')
            [CompletionResult]::new('--no-autostart', '--no-autostart', [CompletionResultType]::ParameterName, 'Never start the daemon; fail with exit code 3 when it is not running')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print the cause chain of errors')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print the cause chain of errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'aoctl;project;ls' {
            [CompletionResult]::new('--socket', '--socket', [CompletionResultType]::ParameterName, 'The daemon''s socket')
            [CompletionResult]::new('--data-dir', '--data-dir', [CompletionResultType]::ParameterName, 'The data directory (passed to a daemon aoctl starts)')
            [CompletionResult]::new('--tmux-socket', '--tmux-socket', [CompletionResultType]::ParameterName, 'ao''s tmux server label or socket path (passed to a daemon aoctl starts)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The daemon''s configuration file (passed to a daemon aoctl starts)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the result as JSON')
            [CompletionResult]::new('--no-autostart', '--no-autostart', [CompletionResultType]::ParameterName, 'Never start the daemon; fail with exit code 3 when it is not running')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print the cause chain of errors')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print the cause chain of errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'aoctl;project;rm' {
            [CompletionResult]::new('--socket', '--socket', [CompletionResultType]::ParameterName, 'The daemon''s socket')
            [CompletionResult]::new('--data-dir', '--data-dir', [CompletionResultType]::ParameterName, 'The data directory (passed to a daemon aoctl starts)')
            [CompletionResult]::new('--tmux-socket', '--tmux-socket', [CompletionResultType]::ParameterName, 'ao''s tmux server label or socket path (passed to a daemon aoctl starts)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The daemon''s configuration file (passed to a daemon aoctl starts)')
            [CompletionResult]::new('--no-autostart', '--no-autostart', [CompletionResultType]::ParameterName, 'Never start the daemon; fail with exit code 3 when it is not running')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print the cause chain of errors')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print the cause chain of errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'aoctl;project;help' {
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Register a repository')
            [CompletionResult]::new('ls', 'ls', [CompletionResultType]::ParameterValue, 'List projects')
            [CompletionResult]::new('rm', 'rm', [CompletionResultType]::ParameterValue, 'Unregister a project (refused while it has live sessions)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'aoctl;project;help;add' {
            break
        }
        'aoctl;project;help;ls' {
            break
        }
        'aoctl;project;help;rm' {
            break
        }
        'aoctl;project;help;help' {
            break
        }
        'aoctl;daemon' {
            [CompletionResult]::new('--socket', '--socket', [CompletionResultType]::ParameterName, 'The daemon''s socket')
            [CompletionResult]::new('--data-dir', '--data-dir', [CompletionResultType]::ParameterName, 'The data directory (passed to a daemon aoctl starts)')
            [CompletionResult]::new('--tmux-socket', '--tmux-socket', [CompletionResultType]::ParameterName, 'ao''s tmux server label or socket path (passed to a daemon aoctl starts)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The daemon''s configuration file (passed to a daemon aoctl starts)')
            [CompletionResult]::new('--no-autostart', '--no-autostart', [CompletionResultType]::ParameterName, 'Never start the daemon; fail with exit code 3 when it is not running')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print the cause chain of errors')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print the cause chain of errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('start', 'start', [CompletionResultType]::ParameterValue, 'Start the daemon in the background (if it is not running)')
            [CompletionResult]::new('stop', 'stop', [CompletionResultType]::ParameterValue, 'Stop the daemon; sessions keep running')
            [CompletionResult]::new('restart', 'restart', [CompletionResultType]::ParameterValue, 'Stop the daemon (if it runs) and start it again with these settings: a changed configuration file takes effect (an invalid one is refused first, the daemon left running). Sessions keep running')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show whether the daemon runs, and where')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'aoctl;daemon;start' {
            [CompletionResult]::new('--socket', '--socket', [CompletionResultType]::ParameterName, 'The daemon''s socket')
            [CompletionResult]::new('--data-dir', '--data-dir', [CompletionResultType]::ParameterName, 'The data directory (passed to a daemon aoctl starts)')
            [CompletionResult]::new('--tmux-socket', '--tmux-socket', [CompletionResultType]::ParameterName, 'ao''s tmux server label or socket path (passed to a daemon aoctl starts)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The daemon''s configuration file (passed to a daemon aoctl starts)')
            [CompletionResult]::new('--no-autostart', '--no-autostart', [CompletionResultType]::ParameterName, 'Never start the daemon; fail with exit code 3 when it is not running')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print the cause chain of errors')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print the cause chain of errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'aoctl;daemon;stop' {
            [CompletionResult]::new('--socket', '--socket', [CompletionResultType]::ParameterName, 'The daemon''s socket')
            [CompletionResult]::new('--data-dir', '--data-dir', [CompletionResultType]::ParameterName, 'The data directory (passed to a daemon aoctl starts)')
            [CompletionResult]::new('--tmux-socket', '--tmux-socket', [CompletionResultType]::ParameterName, 'ao''s tmux server label or socket path (passed to a daemon aoctl starts)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The daemon''s configuration file (passed to a daemon aoctl starts)')
            [CompletionResult]::new('--no-autostart', '--no-autostart', [CompletionResultType]::ParameterName, 'Never start the daemon; fail with exit code 3 when it is not running')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print the cause chain of errors')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print the cause chain of errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'aoctl;daemon;restart' {
            [CompletionResult]::new('--socket', '--socket', [CompletionResultType]::ParameterName, 'The daemon''s socket')
            [CompletionResult]::new('--data-dir', '--data-dir', [CompletionResultType]::ParameterName, 'The data directory (passed to a daemon aoctl starts)')
            [CompletionResult]::new('--tmux-socket', '--tmux-socket', [CompletionResultType]::ParameterName, 'ao''s tmux server label or socket path (passed to a daemon aoctl starts)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The daemon''s configuration file (passed to a daemon aoctl starts)')
            [CompletionResult]::new('--no-autostart', '--no-autostart', [CompletionResultType]::ParameterName, 'Never start the daemon; fail with exit code 3 when it is not running')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print the cause chain of errors')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print the cause chain of errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'aoctl;daemon;status' {
            [CompletionResult]::new('--socket', '--socket', [CompletionResultType]::ParameterName, 'The daemon''s socket')
            [CompletionResult]::new('--data-dir', '--data-dir', [CompletionResultType]::ParameterName, 'The data directory (passed to a daemon aoctl starts)')
            [CompletionResult]::new('--tmux-socket', '--tmux-socket', [CompletionResultType]::ParameterName, 'ao''s tmux server label or socket path (passed to a daemon aoctl starts)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The daemon''s configuration file (passed to a daemon aoctl starts)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the result as JSON')
            [CompletionResult]::new('--no-autostart', '--no-autostart', [CompletionResultType]::ParameterName, 'Never start the daemon; fail with exit code 3 when it is not running')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print the cause chain of errors')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print the cause chain of errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'aoctl;daemon;help' {
            [CompletionResult]::new('start', 'start', [CompletionResultType]::ParameterValue, 'Start the daemon in the background (if it is not running)')
            [CompletionResult]::new('stop', 'stop', [CompletionResultType]::ParameterValue, 'Stop the daemon; sessions keep running')
            [CompletionResult]::new('restart', 'restart', [CompletionResultType]::ParameterValue, 'Stop the daemon (if it runs) and start it again with these settings: a changed configuration file takes effect (an invalid one is refused first, the daemon left running). Sessions keep running')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show whether the daemon runs, and where')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'aoctl;daemon;help;start' {
            break
        }
        'aoctl;daemon;help;stop' {
            break
        }
        'aoctl;daemon;help;restart' {
            break
        }
        'aoctl;daemon;help;status' {
            break
        }
        'aoctl;daemon;help;help' {
            break
        }
        'aoctl;doctor' {
            [CompletionResult]::new('--socket', '--socket', [CompletionResultType]::ParameterName, 'The daemon''s socket')
            [CompletionResult]::new('--data-dir', '--data-dir', [CompletionResultType]::ParameterName, 'The data directory (passed to a daemon aoctl starts)')
            [CompletionResult]::new('--tmux-socket', '--tmux-socket', [CompletionResultType]::ParameterName, 'ao''s tmux server label or socket path (passed to a daemon aoctl starts)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The daemon''s configuration file (passed to a daemon aoctl starts)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the result as JSON')
            [CompletionResult]::new('--no-autostart', '--no-autostart', [CompletionResultType]::ParameterName, 'Never start the daemon; fail with exit code 3 when it is not running')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print the cause chain of errors')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print the cause chain of errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'aoctl;logs' {
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'How many of the last lines to show (0: none)')
            [CompletionResult]::new('--lines', '--lines', [CompletionResultType]::ParameterName, 'How many of the last lines to show (0: none)')
            [CompletionResult]::new('--socket', '--socket', [CompletionResultType]::ParameterName, 'The daemon''s socket')
            [CompletionResult]::new('--data-dir', '--data-dir', [CompletionResultType]::ParameterName, 'The data directory (passed to a daemon aoctl starts)')
            [CompletionResult]::new('--tmux-socket', '--tmux-socket', [CompletionResultType]::ParameterName, 'ao''s tmux server label or socket path (passed to a daemon aoctl starts)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The daemon''s configuration file (passed to a daemon aoctl starts)')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Keep following what the daemon writes')
            [CompletionResult]::new('--follow', '--follow', [CompletionResultType]::ParameterName, 'Keep following what the daemon writes')
            [CompletionResult]::new('--no-autostart', '--no-autostart', [CompletionResultType]::ParameterName, 'Never start the daemon; fail with exit code 3 when it is not running')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print the cause chain of errors')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print the cause chain of errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'aoctl;config' {
            [CompletionResult]::new('--socket', '--socket', [CompletionResultType]::ParameterName, 'The daemon''s socket')
            [CompletionResult]::new('--data-dir', '--data-dir', [CompletionResultType]::ParameterName, 'The data directory (passed to a daemon aoctl starts)')
            [CompletionResult]::new('--tmux-socket', '--tmux-socket', [CompletionResultType]::ParameterName, 'ao''s tmux server label or socket path (passed to a daemon aoctl starts)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The daemon''s configuration file (passed to a daemon aoctl starts)')
            [CompletionResult]::new('--no-autostart', '--no-autostart', [CompletionResultType]::ParameterName, 'Never start the daemon; fail with exit code 3 when it is not running')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print the cause chain of errors')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print the cause chain of errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Check the configuration file (`--config`, `AO_CONFIG`, else the default) as a daemon start would, without a daemon; show the file, data directory and socket it resolves to')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'aoctl;config;check' {
            [CompletionResult]::new('--socket', '--socket', [CompletionResultType]::ParameterName, 'The daemon''s socket')
            [CompletionResult]::new('--data-dir', '--data-dir', [CompletionResultType]::ParameterName, 'The data directory (passed to a daemon aoctl starts)')
            [CompletionResult]::new('--tmux-socket', '--tmux-socket', [CompletionResultType]::ParameterName, 'ao''s tmux server label or socket path (passed to a daemon aoctl starts)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The daemon''s configuration file (passed to a daemon aoctl starts)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the result as JSON')
            [CompletionResult]::new('--no-autostart', '--no-autostart', [CompletionResultType]::ParameterName, 'Never start the daemon; fail with exit code 3 when it is not running')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print the cause chain of errors')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print the cause chain of errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'aoctl;config;help' {
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Check the configuration file (`--config`, `AO_CONFIG`, else the default) as a daemon start would, without a daemon; show the file, data directory and socket it resolves to')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'aoctl;config;help;check' {
            break
        }
        'aoctl;config;help;help' {
            break
        }
        'aoctl;completions' {
            [CompletionResult]::new('--socket', '--socket', [CompletionResultType]::ParameterName, 'The daemon''s socket')
            [CompletionResult]::new('--data-dir', '--data-dir', [CompletionResultType]::ParameterName, 'The data directory (passed to a daemon aoctl starts)')
            [CompletionResult]::new('--tmux-socket', '--tmux-socket', [CompletionResultType]::ParameterName, 'ao''s tmux server label or socket path (passed to a daemon aoctl starts)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The daemon''s configuration file (passed to a daemon aoctl starts)')
            [CompletionResult]::new('--no-autostart', '--no-autostart', [CompletionResultType]::ParameterName, 'Never start the daemon; fail with exit code 3 when it is not running')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print the cause chain of errors')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print the cause chain of errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'aoctl;hook' {
            [CompletionResult]::new('--socket', '--socket', [CompletionResultType]::ParameterName, 'The daemon''s socket')
            [CompletionResult]::new('--data-dir', '--data-dir', [CompletionResultType]::ParameterName, 'The data directory (passed to a daemon aoctl starts)')
            [CompletionResult]::new('--tmux-socket', '--tmux-socket', [CompletionResultType]::ParameterName, 'ao''s tmux server label or socket path (passed to a daemon aoctl starts)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The daemon''s configuration file (passed to a daemon aoctl starts)')
            [CompletionResult]::new('--no-autostart', '--no-autostart', [CompletionResultType]::ParameterName, 'Never start the daemon; fail with exit code 3 when it is not running')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print the cause chain of errors')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print the cause chain of errors')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'aoctl;help' {
            [CompletionResult]::new('spawn', 'spawn', [CompletionResultType]::ParameterValue, 'Start a new agent session in its own worktree and tmux session')
            [CompletionResult]::new('ls', 'ls', [CompletionResultType]::ParameterValue, 'List sessions')
            [CompletionResult]::new('get', 'get', [CompletionResultType]::ParameterValue, 'Show one session')
            [CompletionResult]::new('why', 'why', [CompletionResultType]::ParameterValue, 'Explain a session''s status: the evidence behind each axis and the last transitions')
            [CompletionResult]::new('kill', 'kill', [CompletionResultType]::ParameterValue, 'Stop a session''s agent and move its worktree to the trash (a dirty worktree stays)')
            [CompletionResult]::new('send', 'send', [CompletionResultType]::ParameterValue, 'Type a message into a session''s agent')
            [CompletionResult]::new('tail', 'tail', [CompletionResultType]::ParameterValue, 'Show a session''s output')
            [CompletionResult]::new('restore', 'restore', [CompletionResultType]::ParameterValue, 'Relaunch a killed session in its worktree (resuming the agent''s conversation when it can)')
            [CompletionResult]::new('cleanup', 'cleanup', [CompletionResultType]::ParameterValue, 'Move the worktrees of ended sessions to the trash (dirty ones stay unless --preserve); optionally forget ended sessions and delete merged ao/* branches')
            [CompletionResult]::new('forget', 'forget', [CompletionResultType]::ParameterValue, 'Drop the records of ended sessions (their change-log history stays)')
            [CompletionResult]::new('trash', 'trash', [CompletionResultType]::ParameterValue, 'The worktrees of ended sessions: list, restore, empty')
            [CompletionResult]::new('attach', 'attach', [CompletionResultType]::ParameterValue, 'Attach your terminal to a session''s tmux session')
            [CompletionResult]::new('events', 'events', [CompletionResultType]::ParameterValue, 'Show the change log (session transitions)')
            [CompletionResult]::new('wait', 'wait', [CompletionResultType]::ParameterValue, 'Wait until sessions reach a status')
            [CompletionResult]::new('project', 'project', [CompletionResultType]::ParameterValue, 'Manage projects (git repositories sessions are spawned from)')
            [CompletionResult]::new('daemon', 'daemon', [CompletionResultType]::ParameterValue, 'Start, stop or inspect the daemon')
            [CompletionResult]::new('doctor', 'doctor', [CompletionResultType]::ParameterValue, 'Check the configuration file, the daemon, tmux, git, the socket, the store and the agent CLIs (a missing agent CLI is a warning)')
            [CompletionResult]::new('logs', 'logs', [CompletionResultType]::ParameterValue, 'The daemon''s log (`<data dir>/aod.log`), its last lines; `-f` follows it')
            [CompletionResult]::new('config', 'config', [CompletionResultType]::ParameterValue, 'Check the configuration file without a daemon')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('hook', 'hook', [CompletionResultType]::ParameterValue, 'The callback agent hooks run (never fails; see `hook.rs`)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'aoctl;help;spawn' {
            break
        }
        'aoctl;help;ls' {
            break
        }
        'aoctl;help;get' {
            break
        }
        'aoctl;help;why' {
            break
        }
        'aoctl;help;kill' {
            break
        }
        'aoctl;help;send' {
            break
        }
        'aoctl;help;tail' {
            break
        }
        'aoctl;help;restore' {
            break
        }
        'aoctl;help;cleanup' {
            break
        }
        'aoctl;help;forget' {
            break
        }
        'aoctl;help;trash' {
            [CompletionResult]::new('ls', 'ls', [CompletionResultType]::ParameterValue, 'List the trash, oldest first')
            [CompletionResult]::new('restore', 'restore', [CompletionResultType]::ParameterValue, 'Move an entry back to its original path, as a registered worktree on its branch')
            [CompletionResult]::new('empty', 'empty', [CompletionResultType]::ParameterValue, 'Delete trash entries (all of them, or those older than --older-than)')
            break
        }
        'aoctl;help;trash;ls' {
            break
        }
        'aoctl;help;trash;restore' {
            break
        }
        'aoctl;help;trash;empty' {
            break
        }
        'aoctl;help;attach' {
            break
        }
        'aoctl;help;events' {
            break
        }
        'aoctl;help;wait' {
            break
        }
        'aoctl;help;project' {
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Register a repository')
            [CompletionResult]::new('ls', 'ls', [CompletionResultType]::ParameterValue, 'List projects')
            [CompletionResult]::new('rm', 'rm', [CompletionResultType]::ParameterValue, 'Unregister a project (refused while it has live sessions)')
            break
        }
        'aoctl;help;project;add' {
            break
        }
        'aoctl;help;project;ls' {
            break
        }
        'aoctl;help;project;rm' {
            break
        }
        'aoctl;help;daemon' {
            [CompletionResult]::new('start', 'start', [CompletionResultType]::ParameterValue, 'Start the daemon in the background (if it is not running)')
            [CompletionResult]::new('stop', 'stop', [CompletionResultType]::ParameterValue, 'Stop the daemon; sessions keep running')
            [CompletionResult]::new('restart', 'restart', [CompletionResultType]::ParameterValue, 'Stop the daemon (if it runs) and start it again with these settings: a changed configuration file takes effect (an invalid one is refused first, the daemon left running). Sessions keep running')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show whether the daemon runs, and where')
            break
        }
        'aoctl;help;daemon;start' {
            break
        }
        'aoctl;help;daemon;stop' {
            break
        }
        'aoctl;help;daemon;restart' {
            break
        }
        'aoctl;help;daemon;status' {
            break
        }
        'aoctl;help;doctor' {
            break
        }
        'aoctl;help;logs' {
            break
        }
        'aoctl;help;config' {
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Check the configuration file (`--config`, `AO_CONFIG`, else the default) as a daemon start would, without a daemon; show the file, data directory and socket it resolves to')
            break
        }
        'aoctl;help;config;check' {
            break
        }
        'aoctl;help;completions' {
            break
        }
        'aoctl;help;hook' {
            break
        }
        'aoctl;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
