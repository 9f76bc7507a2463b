# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_aoctl_global_optspecs
    string join \n socket= data-dir= tmux-socket= config= no-autostart v/verbose h/help V/version
end

function __fish_aoctl_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_aoctl_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_aoctl_using_subcommand
    set -l cmd (__fish_aoctl_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c aoctl -n "__fish_aoctl_needs_command" -l socket -d 'The daemon\'s socket' -r -F
complete -c aoctl -n "__fish_aoctl_needs_command" -l data-dir -d 'The data directory (passed to a daemon aoctl starts)' -r -F
complete -c aoctl -n "__fish_aoctl_needs_command" -l tmux-socket -d 'ao\'s tmux server label or socket path (passed to a daemon aoctl starts)' -r
complete -c aoctl -n "__fish_aoctl_needs_command" -l config -d 'The daemon\'s configuration file (passed to a daemon aoctl starts)' -r -F
complete -c aoctl -n "__fish_aoctl_needs_command" -l no-autostart -d 'Never start the daemon; fail with exit code 3 when it is not running'
complete -c aoctl -n "__fish_aoctl_needs_command" -s v -l verbose -d 'Print the cause chain of errors'
complete -c aoctl -n "__fish_aoctl_needs_command" -s h -l help -d 'Print help'
complete -c aoctl -n "__fish_aoctl_needs_command" -s V -l version -d 'Print version'
complete -c aoctl -n "__fish_aoctl_needs_command" -f -a "spawn" -d 'Start a new agent session in its own worktree and tmux session'
complete -c aoctl -n "__fish_aoctl_needs_command" -f -a "ls" -d 'List sessions'
complete -c aoctl -n "__fish_aoctl_needs_command" -f -a "get" -d 'Show one session'
complete -c aoctl -n "__fish_aoctl_needs_command" -f -a "why" -d 'Explain a session\'s status: the evidence behind each axis and the last transitions'
complete -c aoctl -n "__fish_aoctl_needs_command" -f -a "kill" -d 'Stop a session\'s agent and move its worktree to the trash (a dirty worktree stays)'
complete -c aoctl -n "__fish_aoctl_needs_command" -f -a "send" -d 'Type a message into a session\'s agent'
complete -c aoctl -n "__fish_aoctl_needs_command" -f -a "tail" -d 'Show a session\'s output'
complete -c aoctl -n "__fish_aoctl_needs_command" -f -a "restore" -d 'Relaunch a killed session in its worktree (resuming the agent\'s conversation when it can)'
complete -c aoctl -n "__fish_aoctl_needs_command" -f -a "cleanup" -d 'Move the worktrees of ended sessions to the trash (dirty ones stay unless --preserve); optionally forget ended sessions and delete merged ao/* branches'
complete -c aoctl -n "__fish_aoctl_needs_command" -f -a "forget" -d 'Drop the records of ended sessions (their change-log history stays)'
complete -c aoctl -n "__fish_aoctl_needs_command" -f -a "trash" -d 'The worktrees of ended sessions: list, restore, empty'
complete -c aoctl -n "__fish_aoctl_needs_command" -f -a "attach" -d 'Attach your terminal to a session\'s tmux session'
complete -c aoctl -n "__fish_aoctl_needs_command" -f -a "events" -d 'Show the change log (session transitions)'
complete -c aoctl -n "__fish_aoctl_needs_command" -f -a "wait" -d 'Wait until sessions reach a status'
complete -c aoctl -n "__fish_aoctl_needs_command" -f -a "project" -d 'Manage projects (git repositories sessions are spawned from)'
complete -c aoctl -n "__fish_aoctl_needs_command" -f -a "daemon" -d 'Start, stop or inspect the daemon'
complete -c aoctl -n "__fish_aoctl_needs_command" -f -a "doctor" -d 'Check the configuration file, the daemon, tmux, git, the socket, the store and the agent CLIs (a missing agent CLI is a warning)'
complete -c aoctl -n "__fish_aoctl_needs_command" -f -a "logs" -d 'The daemon\'s log (`<data dir>/aod.log`), its last lines; `-f` follows it'
complete -c aoctl -n "__fish_aoctl_needs_command" -f -a "config" -d 'Check the configuration file without a daemon'
complete -c aoctl -n "__fish_aoctl_needs_command" -f -a "completions" -d 'Print a shell completion script'
complete -c aoctl -n "__fish_aoctl_needs_command" -f -a "hook" -d 'The callback agent hooks run (never fails; see `hook.rs`)'
complete -c aoctl -n "__fish_aoctl_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c aoctl -n "__fish_aoctl_using_subcommand spawn" -s p -l project -d 'The project (default: the git repository you are in, registered on first use)' -r
complete -c aoctl -n "__fish_aoctl_using_subcommand spawn" -l agent -d 'The agent harness (`command`, `claude-code`, `codex`, or a configured name)' -r
complete -c aoctl -n "__fish_aoctl_using_subcommand spawn" -l cmd -d 'For the `command` agent: the program and its arguments, split like a shell would (no shell runs)' -r
complete -c aoctl -n "__fish_aoctl_using_subcommand spawn" -l branch -d 'The branch to work on (default `ao/<session id>`)' -r
complete -c aoctl -n "__fish_aoctl_using_subcommand spawn" -l issue -d 'An issue reference, exported as AO_ISSUE_ID' -r
complete -c aoctl -n "__fish_aoctl_using_subcommand spawn" -l model -d 'The agent\'s model' -r
complete -c aoctl -n "__fish_aoctl_using_subcommand spawn" -l permission-mode -d 'The agent\'s permission mode' -r -f -a "default\t''
accept-edits\t''
auto\t''
bypass-permissions\t''"
complete -c aoctl -n "__fish_aoctl_using_subcommand spawn" -l env -d 'A variable for the agent, KEY=VALUE (repeatable; wins over --env-file and the project\'s env). The agent gets no other variable of yours but PATH' -r
complete -c aoctl -n "__fish_aoctl_using_subcommand spawn" -l env-file -d 'Variables for the agent from a dotenv file (KEY=VALUE lines, # comments, quotes)' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand spawn" -l socket -d 'The daemon\'s socket' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand spawn" -l data-dir -d 'The data directory (passed to a daemon aoctl starts)' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand spawn" -l tmux-socket -d 'ao\'s tmux server label or socket path (passed to a daemon aoctl starts)' -r
complete -c aoctl -n "__fish_aoctl_using_subcommand spawn" -l config -d 'The daemon\'s configuration file (passed to a daemon aoctl starts)' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand spawn" -l json -d 'Print the session as JSON'
complete -c aoctl -n "__fish_aoctl_using_subcommand spawn" -l no-autostart -d 'Never start the daemon; fail with exit code 3 when it is not running'
complete -c aoctl -n "__fish_aoctl_using_subcommand spawn" -s v -l verbose -d 'Print the cause chain of errors'
complete -c aoctl -n "__fish_aoctl_using_subcommand spawn" -s h -l help -d 'Print help'
complete -c aoctl -n "__fish_aoctl_using_subcommand spawn" -s V -l version -d 'Print version'
complete -c aoctl -n "__fish_aoctl_using_subcommand ls" -s p -l project -d 'Only this project\'s sessions' -r
complete -c aoctl -n "__fish_aoctl_using_subcommand ls" -l socket -d 'The daemon\'s socket' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand ls" -l data-dir -d 'The data directory (passed to a daemon aoctl starts)' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand ls" -l tmux-socket -d 'ao\'s tmux server label or socket path (passed to a daemon aoctl starts)' -r
complete -c aoctl -n "__fish_aoctl_using_subcommand ls" -l config -d 'The daemon\'s configuration file (passed to a daemon aoctl starts)' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand ls" -l all -d 'Include killed, errored and cleaned-up sessions'
complete -c aoctl -n "__fish_aoctl_using_subcommand ls" -l json -d 'Print the result as JSON'
complete -c aoctl -n "__fish_aoctl_using_subcommand ls" -l wide -d 'Show long branches whole instead of cutting them to fit the terminal'
complete -c aoctl -n "__fish_aoctl_using_subcommand ls" -l watch -d 'Redraw every 2 seconds until interrupted'
complete -c aoctl -n "__fish_aoctl_using_subcommand ls" -l no-autostart -d 'Never start the daemon; fail with exit code 3 when it is not running'
complete -c aoctl -n "__fish_aoctl_using_subcommand ls" -s v -l verbose -d 'Print the cause chain of errors'
complete -c aoctl -n "__fish_aoctl_using_subcommand ls" -s h -l help -d 'Print help'
complete -c aoctl -n "__fish_aoctl_using_subcommand ls" -s V -l version -d 'Print version'
complete -c aoctl -n "__fish_aoctl_using_subcommand get" -l socket -d 'The daemon\'s socket' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand get" -l data-dir -d 'The data directory (passed to a daemon aoctl starts)' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand get" -l tmux-socket -d 'ao\'s tmux server label or socket path (passed to a daemon aoctl starts)' -r
complete -c aoctl -n "__fish_aoctl_using_subcommand get" -l config -d 'The daemon\'s configuration file (passed to a daemon aoctl starts)' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand get" -l json -d 'Print the result as JSON'
complete -c aoctl -n "__fish_aoctl_using_subcommand get" -l no-autostart -d 'Never start the daemon; fail with exit code 3 when it is not running'
complete -c aoctl -n "__fish_aoctl_using_subcommand get" -s v -l verbose -d 'Print the cause chain of errors'
complete -c aoctl -n "__fish_aoctl_using_subcommand get" -s h -l help -d 'Print help'
complete -c aoctl -n "__fish_aoctl_using_subcommand get" -s V -l version -d 'Print version'
complete -c aoctl -n "__fish_aoctl_using_subcommand why" -l limit -d 'How many of the last transitions to show' -r
complete -c aoctl -n "__fish_aoctl_using_subcommand why" -l socket -d 'The daemon\'s socket' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand why" -l data-dir -d 'The data directory (passed to a daemon aoctl starts)' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand why" -l tmux-socket -d 'ao\'s tmux server label or socket path (passed to a daemon aoctl starts)' -r
complete -c aoctl -n "__fish_aoctl_using_subcommand why" -l config -d 'The daemon\'s configuration file (passed to a daemon aoctl starts)' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand why" -l json -d 'The report as one JSON object'
complete -c aoctl -n "__fish_aoctl_using_subcommand why" -l no-autostart -d 'Never start the daemon; fail with exit code 3 when it is not running'
complete -c aoctl -n "__fish_aoctl_using_subcommand why" -s v -l verbose -d 'Print the cause chain of errors'
complete -c aoctl -n "__fish_aoctl_using_subcommand why" -s h -l help -d 'Print help'
complete -c aoctl -n "__fish_aoctl_using_subcommand why" -s V -l version -d 'Print version'
complete -c aoctl -n "__fish_aoctl_using_subcommand kill" -l socket -d 'The daemon\'s socket' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand kill" -l data-dir -d 'The data directory (passed to a daemon aoctl starts)' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand kill" -l tmux-socket -d 'ao\'s tmux server label or socket path (passed to a daemon aoctl starts)' -r
complete -c aoctl -n "__fish_aoctl_using_subcommand kill" -l config -d 'The daemon\'s configuration file (passed to a daemon aoctl starts)' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand kill" -l preserve -d 'Stash uncommitted work into refs/ao/preserved/<id>, then move the worktree to the trash'
complete -c aoctl -n "__fish_aoctl_using_subcommand kill" -l json -d 'Print the result as JSON'
complete -c aoctl -n "__fish_aoctl_using_subcommand kill" -l no-autostart -d 'Never start the daemon; fail with exit code 3 when it is not running'
complete -c aoctl -n "__fish_aoctl_using_subcommand kill" -s v -l verbose -d 'Print the cause chain of errors'
complete -c aoctl -n "__fish_aoctl_using_subcommand kill" -s h -l help -d 'Print help'
complete -c aoctl -n "__fish_aoctl_using_subcommand kill" -s V -l version -d 'Print version'
complete -c aoctl -n "__fish_aoctl_using_subcommand send" -l file -d 'Read the message from a file (`-` for stdin)' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand send" -l timeout -d 'How long to wait for the message to be typed (default 60s); a message still queued then stays queued' -r
complete -c aoctl -n "__fish_aoctl_using_subcommand send" -l socket -d 'The daemon\'s socket' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand send" -l data-dir -d 'The data directory (passed to a daemon aoctl starts)' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand send" -l tmux-socket -d 'ao\'s tmux server label or socket path (passed to a daemon aoctl starts)' -r
complete -c aoctl -n "__fish_aoctl_using_subcommand send" -l config -d 'The daemon\'s configuration file (passed to a daemon aoctl starts)' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand send" -l no-wait -d 'Return once the message is queued'
complete -c aoctl -n "__fish_aoctl_using_subcommand send" -l force -d 'Do not wait for a draft in the agent\'s input line: clear it, send, and type it back'
complete -c aoctl -n "__fish_aoctl_using_subcommand send" -l json -d 'Print the result as JSON'
complete -c aoctl -n "__fish_aoctl_using_subcommand send" -l no-autostart -d 'Never start the daemon; fail with exit code 3 when it is not running'
complete -c aoctl -n "__fish_aoctl_using_subcommand send" -s v -l verbose -d 'Print the cause chain of errors'
complete -c aoctl -n "__fish_aoctl_using_subcommand send" -s h -l help -d 'Print help'
complete -c aoctl -n "__fish_aoctl_using_subcommand send" -s V -l version -d 'Print version'
complete -c aoctl -n "__fish_aoctl_using_subcommand tail" -s n -l lines -d 'Lines to show first, from the end of the session\'s output log (all it holds when it holds fewer). A last line without a newline counts as a line' -r
complete -c aoctl -n "__fish_aoctl_using_subcommand tail" -l socket -d 'The daemon\'s socket' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand tail" -l data-dir -d 'The data directory (passed to a daemon aoctl starts)' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand tail" -l tmux-socket -d 'ao\'s tmux server label or socket path (passed to a daemon aoctl starts)' -r
complete -c aoctl -n "__fish_aoctl_using_subcommand tail" -l config -d 'The daemon\'s configuration file (passed to a daemon aoctl starts)' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand tail" -s f -l follow -d 'Keep following new output'
complete -c aoctl -n "__fish_aoctl_using_subcommand tail" -l no-autostart -d 'Never start the daemon; fail with exit code 3 when it is not running'
complete -c aoctl -n "__fish_aoctl_using_subcommand tail" -s v -l verbose -d 'Print the cause chain of errors'
complete -c aoctl -n "__fish_aoctl_using_subcommand tail" -s h -l help -d 'Print help'
complete -c aoctl -n "__fish_aoctl_using_subcommand tail" -s V -l version -d 'Print version'
complete -c aoctl -n "__fish_aoctl_using_subcommand restore" -l socket -d 'The daemon\'s socket' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand restore" -l data-dir -d 'The data directory (passed to a daemon aoctl starts)' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand restore" -l tmux-socket -d 'ao\'s tmux server label or socket path (passed to a daemon aoctl starts)' -r
complete -c aoctl -n "__fish_aoctl_using_subcommand restore" -l config -d 'The daemon\'s configuration file (passed to a daemon aoctl starts)' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand restore" -l json -d 'Print the result as JSON'
complete -c aoctl -n "__fish_aoctl_using_subcommand restore" -l no-autostart -d 'Never start the daemon; fail with exit code 3 when it is not running'
complete -c aoctl -n "__fish_aoctl_using_subcommand restore" -s v -l verbose -d 'Print the cause chain of errors'
complete -c aoctl -n "__fish_aoctl_using_subcommand restore" -s h -l help -d 'Print help'
complete -c aoctl -n "__fish_aoctl_using_subcommand restore" -s V -l version -d 'Print version'
complete -c aoctl -n "__fish_aoctl_using_subcommand cleanup" -s p -l project -r
complete -c aoctl -n "__fish_aoctl_using_subcommand cleanup" -l older-than -d 'With --forget-ended: only sessions whose last change is at least this old (e.g. 7d)' -r
complete -c aoctl -n "__fish_aoctl_using_subcommand cleanup" -l socket -d 'The daemon\'s socket' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand cleanup" -l data-dir -d 'The data directory (passed to a daemon aoctl starts)' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand cleanup" -l tmux-socket -d 'ao\'s tmux server label or socket path (passed to a daemon aoctl starts)' -r
complete -c aoctl -n "__fish_aoctl_using_subcommand cleanup" -l config -d 'The daemon\'s configuration file (passed to a daemon aoctl starts)' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand cleanup" -l dry-run -d 'Show what would be moved, forgotten or deleted; change nothing'
complete -c aoctl -n "__fish_aoctl_using_subcommand cleanup" -l preserve -d 'Stash uncommitted work into refs/ao/preserved/<id> before moving'
complete -c aoctl -n "__fish_aoctl_using_subcommand cleanup" -l forget-ended -d 'Then forget ended sessions whose worktree is gone: `ls --all` stops listing them; their change-log history stays and their ids are never reused'
complete -c aoctl -n "__fish_aoctl_using_subcommand cleanup" -l branches -d 'Then delete ao/* branches checked out nowhere whose every commit is on the project\'s base branch (merged, or never moved); any other branch is kept, with why'
complete -c aoctl -n "__fish_aoctl_using_subcommand cleanup" -l json
complete -c aoctl -n "__fish_aoctl_using_subcommand cleanup" -l no-autostart -d 'Never start the daemon; fail with exit code 3 when it is not running'
complete -c aoctl -n "__fish_aoctl_using_subcommand cleanup" -s v -l verbose -d 'Print the cause chain of errors'
complete -c aoctl -n "__fish_aoctl_using_subcommand cleanup" -s h -l help -d 'Print help'
complete -c aoctl -n "__fish_aoctl_using_subcommand cleanup" -s V -l version -d 'Print version'
complete -c aoctl -n "__fish_aoctl_using_subcommand forget" -l socket -d 'The daemon\'s socket' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand forget" -l data-dir -d 'The data directory (passed to a daemon aoctl starts)' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand forget" -l tmux-socket -d 'ao\'s tmux server label or socket path (passed to a daemon aoctl starts)' -r
complete -c aoctl -n "__fish_aoctl_using_subcommand forget" -l config -d 'The daemon\'s configuration file (passed to a daemon aoctl starts)' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand forget" -l dry-run -d 'Show what would be forgotten; change nothing'
complete -c aoctl -n "__fish_aoctl_using_subcommand forget" -l json
complete -c aoctl -n "__fish_aoctl_using_subcommand forget" -l no-autostart -d 'Never start the daemon; fail with exit code 3 when it is not running'
complete -c aoctl -n "__fish_aoctl_using_subcommand forget" -s v -l verbose -d 'Print the cause chain of errors'
complete -c aoctl -n "__fish_aoctl_using_subcommand forget" -s h -l help -d 'Print help'
complete -c aoctl -n "__fish_aoctl_using_subcommand forget" -s V -l version -d 'Print version'
complete -c aoctl -n "__fish_aoctl_using_subcommand trash; and not __fish_seen_subcommand_from ls restore empty help" -l socket -d 'The daemon\'s socket' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand trash; and not __fish_seen_subcommand_from ls restore empty help" -l data-dir -d 'The data directory (passed to a daemon aoctl starts)' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand trash; and not __fish_seen_subcommand_from ls restore empty help" -l tmux-socket -d 'ao\'s tmux server label or socket path (passed to a daemon aoctl starts)' -r
complete -c aoctl -n "__fish_aoctl_using_subcommand trash; and not __fish_seen_subcommand_from ls restore empty help" -l config -d 'The daemon\'s configuration file (passed to a daemon aoctl starts)' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand trash; and not __fish_seen_subcommand_from ls restore empty help" -l no-autostart -d 'Never start the daemon; fail with exit code 3 when it is not running'
complete -c aoctl -n "__fish_aoctl_using_subcommand trash; and not __fish_seen_subcommand_from ls restore empty help" -s v -l verbose -d 'Print the cause chain of errors'
complete -c aoctl -n "__fish_aoctl_using_subcommand trash; and not __fish_seen_subcommand_from ls restore empty help" -s h -l help -d 'Print help'
complete -c aoctl -n "__fish_aoctl_using_subcommand trash; and not __fish_seen_subcommand_from ls restore empty help" -s V -l version -d 'Print version'
complete -c aoctl -n "__fish_aoctl_using_subcommand trash; and not __fish_seen_subcommand_from ls restore empty help" -f -a "ls" -d 'List the trash, oldest first'
complete -c aoctl -n "__fish_aoctl_using_subcommand trash; and not __fish_seen_subcommand_from ls restore empty help" -f -a "restore" -d 'Move an entry back to its original path, as a registered worktree on its branch'
complete -c aoctl -n "__fish_aoctl_using_subcommand trash; and not __fish_seen_subcommand_from ls restore empty help" -f -a "empty" -d 'Delete trash entries (all of them, or those older than --older-than)'
complete -c aoctl -n "__fish_aoctl_using_subcommand trash; and not __fish_seen_subcommand_from ls restore empty help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c aoctl -n "__fish_aoctl_using_subcommand trash; and __fish_seen_subcommand_from ls" -l socket -d 'The daemon\'s socket' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand trash; and __fish_seen_subcommand_from ls" -l data-dir -d 'The data directory (passed to a daemon aoctl starts)' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand trash; and __fish_seen_subcommand_from ls" -l tmux-socket -d 'ao\'s tmux server label or socket path (passed to a daemon aoctl starts)' -r
complete -c aoctl -n "__fish_aoctl_using_subcommand trash; and __fish_seen_subcommand_from ls" -l config -d 'The daemon\'s configuration file (passed to a daemon aoctl starts)' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand trash; and __fish_seen_subcommand_from ls" -l json -d 'Print the result as JSON'
complete -c aoctl -n "__fish_aoctl_using_subcommand trash; and __fish_seen_subcommand_from ls" -l no-autostart -d 'Never start the daemon; fail with exit code 3 when it is not running'
complete -c aoctl -n "__fish_aoctl_using_subcommand trash; and __fish_seen_subcommand_from ls" -s v -l verbose -d 'Print the cause chain of errors'
complete -c aoctl -n "__fish_aoctl_using_subcommand trash; and __fish_seen_subcommand_from ls" -s h -l help -d 'Print help'
complete -c aoctl -n "__fish_aoctl_using_subcommand trash; and __fish_seen_subcommand_from ls" -s V -l version -d 'Print version'
complete -c aoctl -n "__fish_aoctl_using_subcommand trash; and __fish_seen_subcommand_from restore" -l socket -d 'The daemon\'s socket' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand trash; and __fish_seen_subcommand_from restore" -l data-dir -d 'The data directory (passed to a daemon aoctl starts)' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand trash; and __fish_seen_subcommand_from restore" -l tmux-socket -d 'ao\'s tmux server label or socket path (passed to a daemon aoctl starts)' -r
complete -c aoctl -n "__fish_aoctl_using_subcommand trash; and __fish_seen_subcommand_from restore" -l config -d 'The daemon\'s configuration file (passed to a daemon aoctl starts)' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand trash; and __fish_seen_subcommand_from restore" -l json -d 'Print the result as JSON'
complete -c aoctl -n "__fish_aoctl_using_subcommand trash; and __fish_seen_subcommand_from restore" -l no-autostart -d 'Never start the daemon; fail with exit code 3 when it is not running'
complete -c aoctl -n "__fish_aoctl_using_subcommand trash; and __fish_seen_subcommand_from restore" -s v -l verbose -d 'Print the cause chain of errors'
complete -c aoctl -n "__fish_aoctl_using_subcommand trash; and __fish_seen_subcommand_from restore" -s h -l help -d 'Print help'
complete -c aoctl -n "__fish_aoctl_using_subcommand trash; and __fish_seen_subcommand_from restore" -s V -l version -d 'Print version'
complete -c aoctl -n "__fish_aoctl_using_subcommand trash; and __fish_seen_subcommand_from empty" -l older-than -d 'Only entries trashed longer ago than this (e.g. 3d, 12h)' -r
complete -c aoctl -n "__fish_aoctl_using_subcommand trash; and __fish_seen_subcommand_from empty" -l socket -d 'The daemon\'s socket' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand trash; and __fish_seen_subcommand_from empty" -l data-dir -d 'The data directory (passed to a daemon aoctl starts)' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand trash; and __fish_seen_subcommand_from empty" -l tmux-socket -d 'ao\'s tmux server label or socket path (passed to a daemon aoctl starts)' -r
complete -c aoctl -n "__fish_aoctl_using_subcommand trash; and __fish_seen_subcommand_from empty" -l config -d 'The daemon\'s configuration file (passed to a daemon aoctl starts)' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand trash; and __fish_seen_subcommand_from empty" -l json -d 'Print the result as JSON'
complete -c aoctl -n "__fish_aoctl_using_subcommand trash; and __fish_seen_subcommand_from empty" -l no-autostart -d 'Never start the daemon; fail with exit code 3 when it is not running'
complete -c aoctl -n "__fish_aoctl_using_subcommand trash; and __fish_seen_subcommand_from empty" -s v -l verbose -d 'Print the cause chain of errors'
complete -c aoctl -n "__fish_aoctl_using_subcommand trash; and __fish_seen_subcommand_from empty" -s h -l help -d 'Print help'
complete -c aoctl -n "__fish_aoctl_using_subcommand trash; and __fish_seen_subcommand_from empty" -s V -l version -d 'Print version'
complete -c aoctl -n "__fish_aoctl_using_subcommand trash; and __fish_seen_subcommand_from help" -f -a "ls" -d 'List the trash, oldest first'
complete -c aoctl -n "__fish_aoctl_using_subcommand trash; and __fish_seen_subcommand_from help" -f -a "restore" -d 'Move an entry back to its original path, as a registered worktree on its branch'
complete -c aoctl -n "__fish_aoctl_using_subcommand trash; and __fish_seen_subcommand_from help" -f -a "empty" -d 'Delete trash entries (all of them, or those older than --older-than)'
complete -c aoctl -n "__fish_aoctl_using_subcommand trash; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c aoctl -n "__fish_aoctl_using_subcommand attach" -l socket -d 'The daemon\'s socket' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand attach" -l data-dir -d 'The data directory (passed to a daemon aoctl starts)' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand attach" -l tmux-socket -d 'ao\'s tmux server label or socket path (passed to a daemon aoctl starts)' -r
complete -c aoctl -n "__fish_aoctl_using_subcommand attach" -l config -d 'The daemon\'s configuration file (passed to a daemon aoctl starts)' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand attach" -l no-autostart -d 'Never start the daemon; fail with exit code 3 when it is not running'
complete -c aoctl -n "__fish_aoctl_using_subcommand attach" -s v -l verbose -d 'Print the cause chain of errors'
complete -c aoctl -n "__fish_aoctl_using_subcommand attach" -s h -l help -d 'Print help'
complete -c aoctl -n "__fish_aoctl_using_subcommand attach" -s V -l version -d 'Print version'
complete -c aoctl -n "__fish_aoctl_using_subcommand events" -l since -d 'Start after this sequence number' -r
complete -c aoctl -n "__fish_aoctl_using_subcommand events" -l session -d 'Only this session\'s events' -r
complete -c aoctl -n "__fish_aoctl_using_subcommand events" -l socket -d 'The daemon\'s socket' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand events" -l data-dir -d 'The data directory (passed to a daemon aoctl starts)' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand events" -l tmux-socket -d 'ao\'s tmux server label or socket path (passed to a daemon aoctl starts)' -r
complete -c aoctl -n "__fish_aoctl_using_subcommand events" -l config -d 'The daemon\'s configuration file (passed to a daemon aoctl starts)' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand events" -s f -l follow -d 'Keep following new events'
complete -c aoctl -n "__fish_aoctl_using_subcommand events" -l json -d 'One JSON array (or, with --follow, one JSON object per line)'
complete -c aoctl -n "__fish_aoctl_using_subcommand events" -l no-autostart -d 'Never start the daemon; fail with exit code 3 when it is not running'
complete -c aoctl -n "__fish_aoctl_using_subcommand events" -s v -l verbose -d 'Print the cause chain of errors'
complete -c aoctl -n "__fish_aoctl_using_subcommand events" -s h -l help -d 'Print help'
complete -c aoctl -n "__fish_aoctl_using_subcommand events" -s V -l version -d 'Print version'
complete -c aoctl -n "__fish_aoctl_using_subcommand wait" -l status -d 'Statuses to wait for, comma separated (e.g. idle,needs_input)' -r
complete -c aoctl -n "__fish_aoctl_using_subcommand wait" -l timeout -d 'Give up after this long (e.g. 30s, 5m); exit code 1' -r
complete -c aoctl -n "__fish_aoctl_using_subcommand wait" -l socket -d 'The daemon\'s socket' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand wait" -l data-dir -d 'The data directory (passed to a daemon aoctl starts)' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand wait" -l tmux-socket -d 'ao\'s tmux server label or socket path (passed to a daemon aoctl starts)' -r
complete -c aoctl -n "__fish_aoctl_using_subcommand wait" -l config -d 'The daemon\'s configuration file (passed to a daemon aoctl starts)' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand wait" -l any -d 'Return when any session matches (default: all)'
complete -c aoctl -n "__fish_aoctl_using_subcommand wait" -l json -d 'Print the result as JSON'
complete -c aoctl -n "__fish_aoctl_using_subcommand wait" -l no-autostart -d 'Never start the daemon; fail with exit code 3 when it is not running'
complete -c aoctl -n "__fish_aoctl_using_subcommand wait" -s v -l verbose -d 'Print the cause chain of errors'
complete -c aoctl -n "__fish_aoctl_using_subcommand wait" -s h -l help -d 'Print help'
complete -c aoctl -n "__fish_aoctl_using_subcommand wait" -s V -l version -d 'Print version'
complete -c aoctl -n "__fish_aoctl_using_subcommand project; and not __fish_seen_subcommand_from add ls rm help" -l socket -d 'The daemon\'s socket' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand project; and not __fish_seen_subcommand_from add ls rm help" -l data-dir -d 'The data directory (passed to a daemon aoctl starts)' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand project; and not __fish_seen_subcommand_from add ls rm help" -l tmux-socket -d 'ao\'s tmux server label or socket path (passed to a daemon aoctl starts)' -r
complete -c aoctl -n "__fish_aoctl_using_subcommand project; and not __fish_seen_subcommand_from add ls rm help" -l config -d 'The daemon\'s configuration file (passed to a daemon aoctl starts)' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand project; and not __fish_seen_subcommand_from add ls rm help" -l no-autostart -d 'Never start the daemon; fail with exit code 3 when it is not running'
complete -c aoctl -n "__fish_aoctl_using_subcommand project; and not __fish_seen_subcommand_from add ls rm help" -s v -l verbose -d 'Print the cause chain of errors'
complete -c aoctl -n "__fish_aoctl_using_subcommand project; and not __fish_seen_subcommand_from add ls rm help" -s h -l help -d 'Print help'
complete -c aoctl -n "__fish_aoctl_using_subcommand project; and not __fish_seen_subcommand_from add ls rm help" -s V -l version -d 'Print version'
complete -c aoctl -n "__fish_aoctl_using_subcommand project; and not __fish_seen_subcommand_from add ls rm help" -f -a "add" -d 'Register a repository'
complete -c aoctl -n "__fish_aoctl_using_subcommand project; and not __fish_seen_subcommand_from add ls rm help" -f -a "ls" -d 'List projects'
complete -c aoctl -n "__fish_aoctl_using_subcommand project; and not __fish_seen_subcommand_from add ls rm help" -f -a "rm" -d 'Unregister a project (refused while it has live sessions)'
complete -c aoctl -n "__fish_aoctl_using_subcommand project; and not __fish_seen_subcommand_from add ls rm help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c aoctl -n "__fish_aoctl_using_subcommand project; and __fish_seen_subcommand_from add" -l base -d 'The branch new branches start from (default: origin\'s HEAD)' -r
complete -c aoctl -n "__fish_aoctl_using_subcommand project; and __fish_seen_subcommand_from add" -l agent -d 'The default agent for this project' -r
complete -c aoctl -n "__fish_aoctl_using_subcommand project; and __fish_seen_subcommand_from add" -l symlink -d 'A repository file to symlink into every new worktree (repeatable)' -r
complete -c aoctl -n "__fish_aoctl_using_subcommand project; and __fish_seen_subcommand_from add" -l copy -d 'A repository file or directory to copy into every new worktree (repeatable)' -r
complete -c aoctl -n "__fish_aoctl_using_subcommand project; and __fish_seen_subcommand_from add" -l post-create -d 'A command to run in every new worktree before the agent starts (repeatable; split like a shell would, no shell runs)' -r
complete -c aoctl -n "__fish_aoctl_using_subcommand project; and __fish_seen_subcommand_from add" -l exclude -d 'A gitignore pattern for every new worktree\'s exclude file, for what post-create commands make (repeatable; e.g. `node_modules/`)' -r
complete -c aoctl -n "__fish_aoctl_using_subcommand project; and __fish_seen_subcommand_from add" -l socket -d 'The daemon\'s socket' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand project; and __fish_seen_subcommand_from add" -l data-dir -d 'The data directory (passed to a daemon aoctl starts)' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand project; and __fish_seen_subcommand_from add" -l tmux-socket -d 'ao\'s tmux server label or socket path (passed to a daemon aoctl starts)' -r
complete -c aoctl -n "__fish_aoctl_using_subcommand project; and __fish_seen_subcommand_from add" -l config -d 'The daemon\'s configuration file (passed to a daemon aoctl starts)' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand project; and __fish_seen_subcommand_from add" -l json -d 'Print the result as JSON'
complete -c aoctl -n "__fish_aoctl_using_subcommand project; and __fish_seen_subcommand_from add" -l no-autostart -d 'Never start the daemon; fail with exit code 3 when it is not running'
complete -c aoctl -n "__fish_aoctl_using_subcommand project; and __fish_seen_subcommand_from add" -s v -l verbose -d 'Print the cause chain of errors'
complete -c aoctl -n "__fish_aoctl_using_subcommand project; and __fish_seen_subcommand_from add" -s h -l help -d 'Print help'
complete -c aoctl -n "__fish_aoctl_using_subcommand project; and __fish_seen_subcommand_from add" -s V -l version -d 'Print version'
complete -c aoctl -n "__fish_aoctl_using_subcommand project; and __fish_seen_subcommand_from ls" -l socket -d 'The daemon\'s socket' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand project; and __fish_seen_subcommand_from ls" -l data-dir -d 'The data directory (passed to a daemon aoctl starts)' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand project; and __fish_seen_subcommand_from ls" -l tmux-socket -d 'ao\'s tmux server label or socket path (passed to a daemon aoctl starts)' -r
complete -c aoctl -n "__fish_aoctl_using_subcommand project; and __fish_seen_subcommand_from ls" -l config -d 'The daemon\'s configuration file (passed to a daemon aoctl starts)' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand project; and __fish_seen_subcommand_from ls" -l json -d 'Print the result as JSON'
complete -c aoctl -n "__fish_aoctl_using_subcommand project; and __fish_seen_subcommand_from ls" -l no-autostart -d 'Never start the daemon; fail with exit code 3 when it is not running'
complete -c aoctl -n "__fish_aoctl_using_subcommand project; and __fish_seen_subcommand_from ls" -s v -l verbose -d 'Print the cause chain of errors'
complete -c aoctl -n "__fish_aoctl_using_subcommand project; and __fish_seen_subcommand_from ls" -s h -l help -d 'Print help'
complete -c aoctl -n "__fish_aoctl_using_subcommand project; and __fish_seen_subcommand_from ls" -s V -l version -d 'Print version'
complete -c aoctl -n "__fish_aoctl_using_subcommand project; and __fish_seen_subcommand_from rm" -l socket -d 'The daemon\'s socket' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand project; and __fish_seen_subcommand_from rm" -l data-dir -d 'The data directory (passed to a daemon aoctl starts)' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand project; and __fish_seen_subcommand_from rm" -l tmux-socket -d 'ao\'s tmux server label or socket path (passed to a daemon aoctl starts)' -r
complete -c aoctl -n "__fish_aoctl_using_subcommand project; and __fish_seen_subcommand_from rm" -l config -d 'The daemon\'s configuration file (passed to a daemon aoctl starts)' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand project; and __fish_seen_subcommand_from rm" -l no-autostart -d 'Never start the daemon; fail with exit code 3 when it is not running'
complete -c aoctl -n "__fish_aoctl_using_subcommand project; and __fish_seen_subcommand_from rm" -s v -l verbose -d 'Print the cause chain of errors'
complete -c aoctl -n "__fish_aoctl_using_subcommand project; and __fish_seen_subcommand_from rm" -s h -l help -d 'Print help'
complete -c aoctl -n "__fish_aoctl_using_subcommand project; and __fish_seen_subcommand_from rm" -s V -l version -d 'Print version'
complete -c aoctl -n "__fish_aoctl_using_subcommand project; and __fish_seen_subcommand_from help" -f -a "add" -d 'Register a repository'
complete -c aoctl -n "__fish_aoctl_using_subcommand project; and __fish_seen_subcommand_from help" -f -a "ls" -d 'List projects'
complete -c aoctl -n "__fish_aoctl_using_subcommand project; and __fish_seen_subcommand_from help" -f -a "rm" -d 'Unregister a project (refused while it has live sessions)'
complete -c aoctl -n "__fish_aoctl_using_subcommand project; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c aoctl -n "__fish_aoctl_using_subcommand daemon; and not __fish_seen_subcommand_from start stop restart status help" -l socket -d 'The daemon\'s socket' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand daemon; and not __fish_seen_subcommand_from start stop restart status help" -l data-dir -d 'The data directory (passed to a daemon aoctl starts)' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand daemon; and not __fish_seen_subcommand_from start stop restart status help" -l tmux-socket -d 'ao\'s tmux server label or socket path (passed to a daemon aoctl starts)' -r
complete -c aoctl -n "__fish_aoctl_using_subcommand daemon; and not __fish_seen_subcommand_from start stop restart status help" -l config -d 'The daemon\'s configuration file (passed to a daemon aoctl starts)' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand daemon; and not __fish_seen_subcommand_from start stop restart status help" -l no-autostart -d 'Never start the daemon; fail with exit code 3 when it is not running'
complete -c aoctl -n "__fish_aoctl_using_subcommand daemon; and not __fish_seen_subcommand_from start stop restart status help" -s v -l verbose -d 'Print the cause chain of errors'
complete -c aoctl -n "__fish_aoctl_using_subcommand daemon; and not __fish_seen_subcommand_from start stop restart status help" -s h -l help -d 'Print help'
complete -c aoctl -n "__fish_aoctl_using_subcommand daemon; and not __fish_seen_subcommand_from start stop restart status help" -s V -l version -d 'Print version'
complete -c aoctl -n "__fish_aoctl_using_subcommand daemon; and not __fish_seen_subcommand_from start stop restart status help" -f -a "start" -d 'Start the daemon in the background (if it is not running)'
complete -c aoctl -n "__fish_aoctl_using_subcommand daemon; and not __fish_seen_subcommand_from start stop restart status help" -f -a "stop" -d 'Stop the daemon; sessions keep running'
complete -c aoctl -n "__fish_aoctl_using_subcommand daemon; and not __fish_seen_subcommand_from start stop restart status help" -f -a "restart" -d 'Stop the daemon (if it runs) and start it again with these settings: a changed configuration file takes effect (an invalid one is refused first, the daemon left running). Sessions keep running'
complete -c aoctl -n "__fish_aoctl_using_subcommand daemon; and not __fish_seen_subcommand_from start stop restart status help" -f -a "status" -d 'Show whether the daemon runs, and where'
complete -c aoctl -n "__fish_aoctl_using_subcommand daemon; and not __fish_seen_subcommand_from start stop restart status help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c aoctl -n "__fish_aoctl_using_subcommand daemon; and __fish_seen_subcommand_from start" -l socket -d 'The daemon\'s socket' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand daemon; and __fish_seen_subcommand_from start" -l data-dir -d 'The data directory (passed to a daemon aoctl starts)' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand daemon; and __fish_seen_subcommand_from start" -l tmux-socket -d 'ao\'s tmux server label or socket path (passed to a daemon aoctl starts)' -r
complete -c aoctl -n "__fish_aoctl_using_subcommand daemon; and __fish_seen_subcommand_from start" -l config -d 'The daemon\'s configuration file (passed to a daemon aoctl starts)' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand daemon; and __fish_seen_subcommand_from start" -l no-autostart -d 'Never start the daemon; fail with exit code 3 when it is not running'
complete -c aoctl -n "__fish_aoctl_using_subcommand daemon; and __fish_seen_subcommand_from start" -s v -l verbose -d 'Print the cause chain of errors'
complete -c aoctl -n "__fish_aoctl_using_subcommand daemon; and __fish_seen_subcommand_from start" -s h -l help -d 'Print help'
complete -c aoctl -n "__fish_aoctl_using_subcommand daemon; and __fish_seen_subcommand_from start" -s V -l version -d 'Print version'
complete -c aoctl -n "__fish_aoctl_using_subcommand daemon; and __fish_seen_subcommand_from stop" -l socket -d 'The daemon\'s socket' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand daemon; and __fish_seen_subcommand_from stop" -l data-dir -d 'The data directory (passed to a daemon aoctl starts)' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand daemon; and __fish_seen_subcommand_from stop" -l tmux-socket -d 'ao\'s tmux server label or socket path (passed to a daemon aoctl starts)' -r
complete -c aoctl -n "__fish_aoctl_using_subcommand daemon; and __fish_seen_subcommand_from stop" -l config -d 'The daemon\'s configuration file (passed to a daemon aoctl starts)' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand daemon; and __fish_seen_subcommand_from stop" -l no-autostart -d 'Never start the daemon; fail with exit code 3 when it is not running'
complete -c aoctl -n "__fish_aoctl_using_subcommand daemon; and __fish_seen_subcommand_from stop" -s v -l verbose -d 'Print the cause chain of errors'
complete -c aoctl -n "__fish_aoctl_using_subcommand daemon; and __fish_seen_subcommand_from stop" -s h -l help -d 'Print help'
complete -c aoctl -n "__fish_aoctl_using_subcommand daemon; and __fish_seen_subcommand_from stop" -s V -l version -d 'Print version'
complete -c aoctl -n "__fish_aoctl_using_subcommand daemon; and __fish_seen_subcommand_from restart" -l socket -d 'The daemon\'s socket' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand daemon; and __fish_seen_subcommand_from restart" -l data-dir -d 'The data directory (passed to a daemon aoctl starts)' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand daemon; and __fish_seen_subcommand_from restart" -l tmux-socket -d 'ao\'s tmux server label or socket path (passed to a daemon aoctl starts)' -r
complete -c aoctl -n "__fish_aoctl_using_subcommand daemon; and __fish_seen_subcommand_from restart" -l config -d 'The daemon\'s configuration file (passed to a daemon aoctl starts)' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand daemon; and __fish_seen_subcommand_from restart" -l no-autostart -d 'Never start the daemon; fail with exit code 3 when it is not running'
complete -c aoctl -n "__fish_aoctl_using_subcommand daemon; and __fish_seen_subcommand_from restart" -s v -l verbose -d 'Print the cause chain of errors'
complete -c aoctl -n "__fish_aoctl_using_subcommand daemon; and __fish_seen_subcommand_from restart" -s h -l help -d 'Print help'
complete -c aoctl -n "__fish_aoctl_using_subcommand daemon; and __fish_seen_subcommand_from restart" -s V -l version -d 'Print version'
complete -c aoctl -n "__fish_aoctl_using_subcommand daemon; and __fish_seen_subcommand_from status" -l socket -d 'The daemon\'s socket' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand daemon; and __fish_seen_subcommand_from status" -l data-dir -d 'The data directory (passed to a daemon aoctl starts)' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand daemon; and __fish_seen_subcommand_from status" -l tmux-socket -d 'ao\'s tmux server label or socket path (passed to a daemon aoctl starts)' -r
complete -c aoctl -n "__fish_aoctl_using_subcommand daemon; and __fish_seen_subcommand_from status" -l config -d 'The daemon\'s configuration file (passed to a daemon aoctl starts)' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand daemon; and __fish_seen_subcommand_from status" -l json -d 'Print the result as JSON'
complete -c aoctl -n "__fish_aoctl_using_subcommand daemon; and __fish_seen_subcommand_from status" -l no-autostart -d 'Never start the daemon; fail with exit code 3 when it is not running'
complete -c aoctl -n "__fish_aoctl_using_subcommand daemon; and __fish_seen_subcommand_from status" -s v -l verbose -d 'Print the cause chain of errors'
complete -c aoctl -n "__fish_aoctl_using_subcommand daemon; and __fish_seen_subcommand_from status" -s h -l help -d 'Print help'
complete -c aoctl -n "__fish_aoctl_using_subcommand daemon; and __fish_seen_subcommand_from status" -s V -l version -d 'Print version'
complete -c aoctl -n "__fish_aoctl_using_subcommand daemon; and __fish_seen_subcommand_from help" -f -a "start" -d 'Start the daemon in the background (if it is not running)'
complete -c aoctl -n "__fish_aoctl_using_subcommand daemon; and __fish_seen_subcommand_from help" -f -a "stop" -d 'Stop the daemon; sessions keep running'
complete -c aoctl -n "__fish_aoctl_using_subcommand daemon; and __fish_seen_subcommand_from help" -f -a "restart" -d 'Stop the daemon (if it runs) and start it again with these settings: a changed configuration file takes effect (an invalid one is refused first, the daemon left running). Sessions keep running'
complete -c aoctl -n "__fish_aoctl_using_subcommand daemon; and __fish_seen_subcommand_from help" -f -a "status" -d 'Show whether the daemon runs, and where'
complete -c aoctl -n "__fish_aoctl_using_subcommand daemon; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c aoctl -n "__fish_aoctl_using_subcommand doctor" -l socket -d 'The daemon\'s socket' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand doctor" -l data-dir -d 'The data directory (passed to a daemon aoctl starts)' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand doctor" -l tmux-socket -d 'ao\'s tmux server label or socket path (passed to a daemon aoctl starts)' -r
complete -c aoctl -n "__fish_aoctl_using_subcommand doctor" -l config -d 'The daemon\'s configuration file (passed to a daemon aoctl starts)' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand doctor" -l json -d 'Print the result as JSON'
complete -c aoctl -n "__fish_aoctl_using_subcommand doctor" -l no-autostart -d 'Never start the daemon; fail with exit code 3 when it is not running'
complete -c aoctl -n "__fish_aoctl_using_subcommand doctor" -s v -l verbose -d 'Print the cause chain of errors'
complete -c aoctl -n "__fish_aoctl_using_subcommand doctor" -s h -l help -d 'Print help'
complete -c aoctl -n "__fish_aoctl_using_subcommand doctor" -s V -l version -d 'Print version'
complete -c aoctl -n "__fish_aoctl_using_subcommand logs" -s n -l lines -d 'How many of the last lines to show (0: none)' -r
complete -c aoctl -n "__fish_aoctl_using_subcommand logs" -l socket -d 'The daemon\'s socket' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand logs" -l data-dir -d 'The data directory (passed to a daemon aoctl starts)' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand logs" -l tmux-socket -d 'ao\'s tmux server label or socket path (passed to a daemon aoctl starts)' -r
complete -c aoctl -n "__fish_aoctl_using_subcommand logs" -l config -d 'The daemon\'s configuration file (passed to a daemon aoctl starts)' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand logs" -s f -l follow -d 'Keep following what the daemon writes'
complete -c aoctl -n "__fish_aoctl_using_subcommand logs" -l no-autostart -d 'Never start the daemon; fail with exit code 3 when it is not running'
complete -c aoctl -n "__fish_aoctl_using_subcommand logs" -s v -l verbose -d 'Print the cause chain of errors'
complete -c aoctl -n "__fish_aoctl_using_subcommand logs" -s h -l help -d 'Print help'
complete -c aoctl -n "__fish_aoctl_using_subcommand logs" -s V -l version -d 'Print version'
complete -c aoctl -n "__fish_aoctl_using_subcommand config; and not __fish_seen_subcommand_from check help" -l socket -d 'The daemon\'s socket' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand config; and not __fish_seen_subcommand_from check help" -l data-dir -d 'The data directory (passed to a daemon aoctl starts)' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand config; and not __fish_seen_subcommand_from check help" -l tmux-socket -d 'ao\'s tmux server label or socket path (passed to a daemon aoctl starts)' -r
complete -c aoctl -n "__fish_aoctl_using_subcommand config; and not __fish_seen_subcommand_from check help" -l config -d 'The daemon\'s configuration file (passed to a daemon aoctl starts)' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand config; and not __fish_seen_subcommand_from check help" -l no-autostart -d 'Never start the daemon; fail with exit code 3 when it is not running'
complete -c aoctl -n "__fish_aoctl_using_subcommand config; and not __fish_seen_subcommand_from check help" -s v -l verbose -d 'Print the cause chain of errors'
complete -c aoctl -n "__fish_aoctl_using_subcommand config; and not __fish_seen_subcommand_from check help" -s h -l help -d 'Print help'
complete -c aoctl -n "__fish_aoctl_using_subcommand config; and not __fish_seen_subcommand_from check help" -s V -l version -d 'Print version'
complete -c aoctl -n "__fish_aoctl_using_subcommand config; and not __fish_seen_subcommand_from check help" -f -a "check" -d 'Check the configuration file (`--config`, `AO_CONFIG`, else the default) as a daemon start would, without a daemon; show the file, data directory and socket it resolves to'
complete -c aoctl -n "__fish_aoctl_using_subcommand config; and not __fish_seen_subcommand_from check help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c aoctl -n "__fish_aoctl_using_subcommand config; and __fish_seen_subcommand_from check" -l socket -d 'The daemon\'s socket' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand config; and __fish_seen_subcommand_from check" -l data-dir -d 'The data directory (passed to a daemon aoctl starts)' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand config; and __fish_seen_subcommand_from check" -l tmux-socket -d 'ao\'s tmux server label or socket path (passed to a daemon aoctl starts)' -r
complete -c aoctl -n "__fish_aoctl_using_subcommand config; and __fish_seen_subcommand_from check" -l config -d 'The daemon\'s configuration file (passed to a daemon aoctl starts)' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand config; and __fish_seen_subcommand_from check" -l json -d 'Print the result as JSON'
complete -c aoctl -n "__fish_aoctl_using_subcommand config; and __fish_seen_subcommand_from check" -l no-autostart -d 'Never start the daemon; fail with exit code 3 when it is not running'
complete -c aoctl -n "__fish_aoctl_using_subcommand config; and __fish_seen_subcommand_from check" -s v -l verbose -d 'Print the cause chain of errors'
complete -c aoctl -n "__fish_aoctl_using_subcommand config; and __fish_seen_subcommand_from check" -s h -l help -d 'Print help'
complete -c aoctl -n "__fish_aoctl_using_subcommand config; and __fish_seen_subcommand_from check" -s V -l version -d 'Print version'
complete -c aoctl -n "__fish_aoctl_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "check" -d 'Check the configuration file (`--config`, `AO_CONFIG`, else the default) as a daemon start would, without a daemon; show the file, data directory and socket it resolves to'
complete -c aoctl -n "__fish_aoctl_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c aoctl -n "__fish_aoctl_using_subcommand completions" -l socket -d 'The daemon\'s socket' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand completions" -l data-dir -d 'The data directory (passed to a daemon aoctl starts)' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand completions" -l tmux-socket -d 'ao\'s tmux server label or socket path (passed to a daemon aoctl starts)' -r
complete -c aoctl -n "__fish_aoctl_using_subcommand completions" -l config -d 'The daemon\'s configuration file (passed to a daemon aoctl starts)' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand completions" -l no-autostart -d 'Never start the daemon; fail with exit code 3 when it is not running'
complete -c aoctl -n "__fish_aoctl_using_subcommand completions" -s v -l verbose -d 'Print the cause chain of errors'
complete -c aoctl -n "__fish_aoctl_using_subcommand completions" -s h -l help -d 'Print help'
complete -c aoctl -n "__fish_aoctl_using_subcommand completions" -s V -l version -d 'Print version'
complete -c aoctl -n "__fish_aoctl_using_subcommand hook" -l socket -d 'The daemon\'s socket' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand hook" -l data-dir -d 'The data directory (passed to a daemon aoctl starts)' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand hook" -l tmux-socket -d 'ao\'s tmux server label or socket path (passed to a daemon aoctl starts)' -r
complete -c aoctl -n "__fish_aoctl_using_subcommand hook" -l config -d 'The daemon\'s configuration file (passed to a daemon aoctl starts)' -r -F
complete -c aoctl -n "__fish_aoctl_using_subcommand hook" -l no-autostart -d 'Never start the daemon; fail with exit code 3 when it is not running'
complete -c aoctl -n "__fish_aoctl_using_subcommand hook" -s v -l verbose -d 'Print the cause chain of errors'
complete -c aoctl -n "__fish_aoctl_using_subcommand hook" -s h -l help -d 'Print help'
complete -c aoctl -n "__fish_aoctl_using_subcommand hook" -s V -l version -d 'Print version'
complete -c aoctl -n "__fish_aoctl_using_subcommand help; and not __fish_seen_subcommand_from spawn ls get why kill send tail restore cleanup forget trash attach events wait project daemon doctor logs config completions hook help" -f -a "spawn" -d 'Start a new agent session in its own worktree and tmux session'
complete -c aoctl -n "__fish_aoctl_using_subcommand help; and not __fish_seen_subcommand_from spawn ls get why kill send tail restore cleanup forget trash attach events wait project daemon doctor logs config completions hook help" -f -a "ls" -d 'List sessions'
complete -c aoctl -n "__fish_aoctl_using_subcommand help; and not __fish_seen_subcommand_from spawn ls get why kill send tail restore cleanup forget trash attach events wait project daemon doctor logs config completions hook help" -f -a "get" -d 'Show one session'
complete -c aoctl -n "__fish_aoctl_using_subcommand help; and not __fish_seen_subcommand_from spawn ls get why kill send tail restore cleanup forget trash attach events wait project daemon doctor logs config completions hook help" -f -a "why" -d 'Explain a session\'s status: the evidence behind each axis and the last transitions'
complete -c aoctl -n "__fish_aoctl_using_subcommand help; and not __fish_seen_subcommand_from spawn ls get why kill send tail restore cleanup forget trash attach events wait project daemon doctor logs config completions hook help" -f -a "kill" -d 'Stop a session\'s agent and move its worktree to the trash (a dirty worktree stays)'
complete -c aoctl -n "__fish_aoctl_using_subcommand help; and not __fish_seen_subcommand_from spawn ls get why kill send tail restore cleanup forget trash attach events wait project daemon doctor logs config completions hook help" -f -a "send" -d 'Type a message into a session\'s agent'
complete -c aoctl -n "__fish_aoctl_using_subcommand help; and not __fish_seen_subcommand_from spawn ls get why kill send tail restore cleanup forget trash attach events wait project daemon doctor logs config completions hook help" -f -a "tail" -d 'Show a session\'s output'
complete -c aoctl -n "__fish_aoctl_using_subcommand help; and not __fish_seen_subcommand_from spawn ls get why kill send tail restore cleanup forget trash attach events wait project daemon doctor logs config completions hook help" -f -a "restore" -d 'Relaunch a killed session in its worktree (resuming the agent\'s conversation when it can)'
complete -c aoctl -n "__fish_aoctl_using_subcommand help; and not __fish_seen_subcommand_from spawn ls get why kill send tail restore cleanup forget trash attach events wait project daemon doctor logs config completions hook help" -f -a "cleanup" -d 'Move the worktrees of ended sessions to the trash (dirty ones stay unless --preserve); optionally forget ended sessions and delete merged ao/* branches'
complete -c aoctl -n "__fish_aoctl_using_subcommand help; and not __fish_seen_subcommand_from spawn ls get why kill send tail restore cleanup forget trash attach events wait project daemon doctor logs config completions hook help" -f -a "forget" -d 'Drop the records of ended sessions (their change-log history stays)'
complete -c aoctl -n "__fish_aoctl_using_subcommand help; and not __fish_seen_subcommand_from spawn ls get why kill send tail restore cleanup forget trash attach events wait project daemon doctor logs config completions hook help" -f -a "trash" -d 'The worktrees of ended sessions: list, restore, empty'
complete -c aoctl -n "__fish_aoctl_using_subcommand help; and not __fish_seen_subcommand_from spawn ls get why kill send tail restore cleanup forget trash attach events wait project daemon doctor logs config completions hook help" -f -a "attach" -d 'Attach your terminal to a session\'s tmux session'
complete -c aoctl -n "__fish_aoctl_using_subcommand help; and not __fish_seen_subcommand_from spawn ls get why kill send tail restore cleanup forget trash attach events wait project daemon doctor logs config completions hook help" -f -a "events" -d 'Show the change log (session transitions)'
complete -c aoctl -n "__fish_aoctl_using_subcommand help; and not __fish_seen_subcommand_from spawn ls get why kill send tail restore cleanup forget trash attach events wait project daemon doctor logs config completions hook help" -f -a "wait" -d 'Wait until sessions reach a status'
complete -c aoctl -n "__fish_aoctl_using_subcommand help; and not __fish_seen_subcommand_from spawn ls get why kill send tail restore cleanup forget trash attach events wait project daemon doctor logs config completions hook help" -f -a "project" -d 'Manage projects (git repositories sessions are spawned from)'
complete -c aoctl -n "__fish_aoctl_using_subcommand help; and not __fish_seen_subcommand_from spawn ls get why kill send tail restore cleanup forget trash attach events wait project daemon doctor logs config completions hook help" -f -a "daemon" -d 'Start, stop or inspect the daemon'
complete -c aoctl -n "__fish_aoctl_using_subcommand help; and not __fish_seen_subcommand_from spawn ls get why kill send tail restore cleanup forget trash attach events wait project daemon doctor logs config completions hook help" -f -a "doctor" -d 'Check the configuration file, the daemon, tmux, git, the socket, the store and the agent CLIs (a missing agent CLI is a warning)'
complete -c aoctl -n "__fish_aoctl_using_subcommand help; and not __fish_seen_subcommand_from spawn ls get why kill send tail restore cleanup forget trash attach events wait project daemon doctor logs config completions hook help" -f -a "logs" -d 'The daemon\'s log (`<data dir>/aod.log`), its last lines; `-f` follows it'
complete -c aoctl -n "__fish_aoctl_using_subcommand help; and not __fish_seen_subcommand_from spawn ls get why kill send tail restore cleanup forget trash attach events wait project daemon doctor logs config completions hook help" -f -a "config" -d 'Check the configuration file without a daemon'
complete -c aoctl -n "__fish_aoctl_using_subcommand help; and not __fish_seen_subcommand_from spawn ls get why kill send tail restore cleanup forget trash attach events wait project daemon doctor logs config completions hook help" -f -a "completions" -d 'Print a shell completion script'
complete -c aoctl -n "__fish_aoctl_using_subcommand help; and not __fish_seen_subcommand_from spawn ls get why kill send tail restore cleanup forget trash attach events wait project daemon doctor logs config completions hook help" -f -a "hook" -d 'The callback agent hooks run (never fails; see `hook.rs`)'
complete -c aoctl -n "__fish_aoctl_using_subcommand help; and not __fish_seen_subcommand_from spawn ls get why kill send tail restore cleanup forget trash attach events wait project daemon doctor logs config completions hook help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c aoctl -n "__fish_aoctl_using_subcommand help; and __fish_seen_subcommand_from trash" -f -a "ls" -d 'List the trash, oldest first'
complete -c aoctl -n "__fish_aoctl_using_subcommand help; and __fish_seen_subcommand_from trash" -f -a "restore" -d 'Move an entry back to its original path, as a registered worktree on its branch'
complete -c aoctl -n "__fish_aoctl_using_subcommand help; and __fish_seen_subcommand_from trash" -f -a "empty" -d 'Delete trash entries (all of them, or those older than --older-than)'
complete -c aoctl -n "__fish_aoctl_using_subcommand help; and __fish_seen_subcommand_from project" -f -a "add" -d 'Register a repository'
complete -c aoctl -n "__fish_aoctl_using_subcommand help; and __fish_seen_subcommand_from project" -f -a "ls" -d 'List projects'
complete -c aoctl -n "__fish_aoctl_using_subcommand help; and __fish_seen_subcommand_from project" -f -a "rm" -d 'Unregister a project (refused while it has live sessions)'
complete -c aoctl -n "__fish_aoctl_using_subcommand help; and __fish_seen_subcommand_from daemon" -f -a "start" -d 'Start the daemon in the background (if it is not running)'
complete -c aoctl -n "__fish_aoctl_using_subcommand help; and __fish_seen_subcommand_from daemon" -f -a "stop" -d 'Stop the daemon; sessions keep running'
complete -c aoctl -n "__fish_aoctl_using_subcommand help; and __fish_seen_subcommand_from daemon" -f -a "restart" -d 'Stop the daemon (if it runs) and start it again with these settings: a changed configuration file takes effect (an invalid one is refused first, the daemon left running). Sessions keep running'
complete -c aoctl -n "__fish_aoctl_using_subcommand help; and __fish_seen_subcommand_from daemon" -f -a "status" -d 'Show whether the daemon runs, and where'
complete -c aoctl -n "__fish_aoctl_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "check" -d 'Check the configuration file (`--config`, `AO_CONFIG`, else the default) as a daemon start would, without a daemon; show the file, data directory and socket it resolves to'
