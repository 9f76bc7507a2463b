
use builtin;
use str;

set edit:completion:arg-completer[aoctl] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'aoctl'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'aoctl'= {
            cand --socket 'The daemon''s socket'
            cand --data-dir 'The data directory (passed to a daemon aoctl starts)'
            cand --tmux-socket 'ao''s tmux server label or socket path (passed to a daemon aoctl starts)'
            cand --config 'The daemon''s configuration file (passed to a daemon aoctl starts)'
            cand --no-autostart 'Never start the daemon; fail with exit code 3 when it is not running'
            cand -v 'Print the cause chain of errors'
            cand --verbose 'Print the cause chain of errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand spawn 'Start a new agent session in its own worktree and tmux session'
            cand ls 'List sessions'
            cand get 'Show one session'
            cand why 'Explain a session''s status: the evidence behind each axis and the last transitions'
            cand kill 'Stop a session''s agent and move its worktree to the trash (a dirty worktree stays)'
            cand send 'Type a message into a session''s agent'
            cand tail 'Show a session''s output'
            cand restore 'Relaunch a killed session in its worktree (resuming the agent''s conversation when it can)'
            cand cleanup 'Move the worktrees of ended sessions to the trash (dirty ones stay unless --preserve); optionally forget ended sessions and delete merged ao/* branches'
            cand forget 'Drop the records of ended sessions (their change-log history stays)'
            cand trash 'The worktrees of ended sessions: list, restore, empty'
            cand attach 'Attach your terminal to a session''s tmux session'
            cand events 'Show the change log (session transitions)'
            cand wait 'Wait until sessions reach a status'
            cand project 'Manage projects (git repositories sessions are spawned from)'
            cand daemon 'Start, stop or inspect the daemon'
            cand doctor 'Check the configuration file, the daemon, tmux, git, the socket, the store and the agent CLIs (a missing agent CLI is a warning)'
            cand logs 'The daemon''s log (`<data dir>/aod.log`), its last lines; `-f` follows it'
            cand config 'Check the configuration file without a daemon'
            cand completions 'Print a shell completion script'
            cand hook 'The callback agent hooks run (never fails; see `hook.rs`)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'aoctl;spawn'= {
            cand -p 'The project (default: the git repository you are in, registered on first use)'
            cand --project 'The project (default: the git repository you are in, registered on first use)'
            cand --agent 'The agent harness (`command`, `claude-code`, `codex`, or a configured name)'
            cand --cmd 'For the `command` agent: the program and its arguments, split like a shell would (no shell runs)'
            cand --branch 'The branch to work on (default `ao/<session id>`)'
            cand --issue 'An issue reference, exported as AO_ISSUE_ID'
            cand --model 'The agent''s model'
            cand --permission-mode 'The agent''s permission mode'
            cand --env 'A variable for the agent, KEY=VALUE (repeatable; wins over --env-file and the project''s env). The agent gets no other variable of yours but PATH'
            cand --env-file 'Variables for the agent from a dotenv file (KEY=VALUE lines, # comments, quotes)'
            cand --socket 'The daemon''s socket'
            cand --data-dir 'The data directory (passed to a daemon aoctl starts)'
            cand --tmux-socket 'ao''s tmux server label or socket path (passed to a daemon aoctl starts)'
            cand --config 'The daemon''s configuration file (passed to a daemon aoctl starts)'
            cand --json 'Print the session as JSON'
            cand --no-autostart 'Never start the daemon; fail with exit code 3 when it is not running'
            cand -v 'Print the cause chain of errors'
            cand --verbose 'Print the cause chain of errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'aoctl;ls'= {
            cand -p 'Only this project''s sessions'
            cand --project 'Only this project''s sessions'
            cand --socket 'The daemon''s socket'
            cand --data-dir 'The data directory (passed to a daemon aoctl starts)'
            cand --tmux-socket 'ao''s tmux server label or socket path (passed to a daemon aoctl starts)'
            cand --config 'The daemon''s configuration file (passed to a daemon aoctl starts)'
            cand --all 'Include killed, errored and cleaned-up sessions'
            cand --json 'Print the result as JSON'
            cand --wide 'Show long branches whole instead of cutting them to fit the terminal'
            cand --watch 'Redraw every 2 seconds until interrupted'
            cand --no-autostart 'Never start the daemon; fail with exit code 3 when it is not running'
            cand -v 'Print the cause chain of errors'
            cand --verbose 'Print the cause chain of errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'aoctl;get'= {
            cand --socket 'The daemon''s socket'
            cand --data-dir 'The data directory (passed to a daemon aoctl starts)'
            cand --tmux-socket 'ao''s tmux server label or socket path (passed to a daemon aoctl starts)'
            cand --config 'The daemon''s configuration file (passed to a daemon aoctl starts)'
            cand --json 'Print the result as JSON'
            cand --no-autostart 'Never start the daemon; fail with exit code 3 when it is not running'
            cand -v 'Print the cause chain of errors'
            cand --verbose 'Print the cause chain of errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'aoctl;why'= {
            cand --limit 'How many of the last transitions to show'
            cand --socket 'The daemon''s socket'
            cand --data-dir 'The data directory (passed to a daemon aoctl starts)'
            cand --tmux-socket 'ao''s tmux server label or socket path (passed to a daemon aoctl starts)'
            cand --config 'The daemon''s configuration file (passed to a daemon aoctl starts)'
            cand --json 'The report as one JSON object'
            cand --no-autostart 'Never start the daemon; fail with exit code 3 when it is not running'
            cand -v 'Print the cause chain of errors'
            cand --verbose 'Print the cause chain of errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'aoctl;kill'= {
            cand --socket 'The daemon''s socket'
            cand --data-dir 'The data directory (passed to a daemon aoctl starts)'
            cand --tmux-socket 'ao''s tmux server label or socket path (passed to a daemon aoctl starts)'
            cand --config 'The daemon''s configuration file (passed to a daemon aoctl starts)'
            cand --preserve 'Stash uncommitted work into refs/ao/preserved/<id>, then move the worktree to the trash'
            cand --json 'Print the result as JSON'
            cand --no-autostart 'Never start the daemon; fail with exit code 3 when it is not running'
            cand -v 'Print the cause chain of errors'
            cand --verbose 'Print the cause chain of errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'aoctl;send'= {
            cand --file 'Read the message from a file (`-` for stdin)'
            cand --timeout 'How long to wait for the message to be typed (default 60s); a message still queued then stays queued'
            cand --socket 'The daemon''s socket'
            cand --data-dir 'The data directory (passed to a daemon aoctl starts)'
            cand --tmux-socket 'ao''s tmux server label or socket path (passed to a daemon aoctl starts)'
            cand --config 'The daemon''s configuration file (passed to a daemon aoctl starts)'
            cand --no-wait 'Return once the message is queued'
            cand --force 'Do not wait for a draft in the agent''s input line: clear it, send, and type it back'
            cand --json 'Print the result as JSON'
            cand --no-autostart 'Never start the daemon; fail with exit code 3 when it is not running'
            cand -v 'Print the cause chain of errors'
            cand --verbose 'Print the cause chain of errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'aoctl;tail'= {
            cand -n 'Lines to show first, from the end of the session''s output log (all it holds when it holds fewer). A last line without a newline counts as a line'
            cand --lines 'Lines to show first, from the end of the session''s output log (all it holds when it holds fewer). A last line without a newline counts as a line'
            cand --socket 'The daemon''s socket'
            cand --data-dir 'The data directory (passed to a daemon aoctl starts)'
            cand --tmux-socket 'ao''s tmux server label or socket path (passed to a daemon aoctl starts)'
            cand --config 'The daemon''s configuration file (passed to a daemon aoctl starts)'
            cand -f 'Keep following new output'
            cand --follow 'Keep following new output'
            cand --no-autostart 'Never start the daemon; fail with exit code 3 when it is not running'
            cand -v 'Print the cause chain of errors'
            cand --verbose 'Print the cause chain of errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'aoctl;restore'= {
            cand --socket 'The daemon''s socket'
            cand --data-dir 'The data directory (passed to a daemon aoctl starts)'
            cand --tmux-socket 'ao''s tmux server label or socket path (passed to a daemon aoctl starts)'
            cand --config 'The daemon''s configuration file (passed to a daemon aoctl starts)'
            cand --json 'Print the result as JSON'
            cand --no-autostart 'Never start the daemon; fail with exit code 3 when it is not running'
            cand -v 'Print the cause chain of errors'
            cand --verbose 'Print the cause chain of errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'aoctl;cleanup'= {
            cand -p 'p'
            cand --project 'project'
            cand --older-than 'With --forget-ended: only sessions whose last change is at least this old (e.g. 7d)'
            cand --socket 'The daemon''s socket'
            cand --data-dir 'The data directory (passed to a daemon aoctl starts)'
            cand --tmux-socket 'ao''s tmux server label or socket path (passed to a daemon aoctl starts)'
            cand --config 'The daemon''s configuration file (passed to a daemon aoctl starts)'
            cand --dry-run 'Show what would be moved, forgotten or deleted; change nothing'
            cand --preserve 'Stash uncommitted work into refs/ao/preserved/<id> before moving'
            cand --forget-ended 'Then forget ended sessions whose worktree is gone: `ls --all` stops listing them; their change-log history stays and their ids are never reused'
            cand --branches 'Then delete ao/* branches checked out nowhere whose every commit is on the project''s base branch (merged, or never moved); any other branch is kept, with why'
            cand --json 'json'
            cand --no-autostart 'Never start the daemon; fail with exit code 3 when it is not running'
            cand -v 'Print the cause chain of errors'
            cand --verbose 'Print the cause chain of errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'aoctl;forget'= {
            cand --socket 'The daemon''s socket'
            cand --data-dir 'The data directory (passed to a daemon aoctl starts)'
            cand --tmux-socket 'ao''s tmux server label or socket path (passed to a daemon aoctl starts)'
            cand --config 'The daemon''s configuration file (passed to a daemon aoctl starts)'
            cand --dry-run 'Show what would be forgotten; change nothing'
            cand --json 'json'
            cand --no-autostart 'Never start the daemon; fail with exit code 3 when it is not running'
            cand -v 'Print the cause chain of errors'
            cand --verbose 'Print the cause chain of errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'aoctl;trash'= {
            cand --socket 'The daemon''s socket'
            cand --data-dir 'The data directory (passed to a daemon aoctl starts)'
            cand --tmux-socket 'ao''s tmux server label or socket path (passed to a daemon aoctl starts)'
            cand --config 'The daemon''s configuration file (passed to a daemon aoctl starts)'
            cand --no-autostart 'Never start the daemon; fail with exit code 3 when it is not running'
            cand -v 'Print the cause chain of errors'
            cand --verbose 'Print the cause chain of errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand ls 'List the trash, oldest first'
            cand restore 'Move an entry back to its original path, as a registered worktree on its branch'
            cand empty 'Delete trash entries (all of them, or those older than --older-than)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'aoctl;trash;ls'= {
            cand --socket 'The daemon''s socket'
            cand --data-dir 'The data directory (passed to a daemon aoctl starts)'
            cand --tmux-socket 'ao''s tmux server label or socket path (passed to a daemon aoctl starts)'
            cand --config 'The daemon''s configuration file (passed to a daemon aoctl starts)'
            cand --json 'Print the result as JSON'
            cand --no-autostart 'Never start the daemon; fail with exit code 3 when it is not running'
            cand -v 'Print the cause chain of errors'
            cand --verbose 'Print the cause chain of errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'aoctl;trash;restore'= {
            cand --socket 'The daemon''s socket'
            cand --data-dir 'The data directory (passed to a daemon aoctl starts)'
            cand --tmux-socket 'ao''s tmux server label or socket path (passed to a daemon aoctl starts)'
            cand --config 'The daemon''s configuration file (passed to a daemon aoctl starts)'
            cand --json 'Print the result as JSON'
            cand --no-autostart 'Never start the daemon; fail with exit code 3 when it is not running'
            cand -v 'Print the cause chain of errors'
            cand --verbose 'Print the cause chain of errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'aoctl;trash;empty'= {
            cand --older-than 'Only entries trashed longer ago than this (e.g. 3d, 12h)'
            cand --socket 'The daemon''s socket'
            cand --data-dir 'The data directory (passed to a daemon aoctl starts)'
            cand --tmux-socket 'ao''s tmux server label or socket path (passed to a daemon aoctl starts)'
            cand --config 'The daemon''s configuration file (passed to a daemon aoctl starts)'
            cand --json 'Print the result as JSON'
            cand --no-autostart 'Never start the daemon; fail with exit code 3 when it is not running'
            cand -v 'Print the cause chain of errors'
            cand --verbose 'Print the cause chain of errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'aoctl;trash;help'= {
            cand ls 'List the trash, oldest first'
            cand restore 'Move an entry back to its original path, as a registered worktree on its branch'
            cand empty 'Delete trash entries (all of them, or those older than --older-than)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'aoctl;trash;help;ls'= {
        }
        &'aoctl;trash;help;restore'= {
        }
        &'aoctl;trash;help;empty'= {
        }
        &'aoctl;trash;help;help'= {
        }
        &'aoctl;attach'= {
            cand --socket 'The daemon''s socket'
            cand --data-dir 'The data directory (passed to a daemon aoctl starts)'
            cand --tmux-socket 'ao''s tmux server label or socket path (passed to a daemon aoctl starts)'
            cand --config 'The daemon''s configuration file (passed to a daemon aoctl starts)'
            cand --no-autostart 'Never start the daemon; fail with exit code 3 when it is not running'
            cand -v 'Print the cause chain of errors'
            cand --verbose 'Print the cause chain of errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'aoctl;events'= {
            cand --since 'Start after this sequence number'
            cand --session 'Only this session''s events'
            cand --socket 'The daemon''s socket'
            cand --data-dir 'The data directory (passed to a daemon aoctl starts)'
            cand --tmux-socket 'ao''s tmux server label or socket path (passed to a daemon aoctl starts)'
            cand --config 'The daemon''s configuration file (passed to a daemon aoctl starts)'
            cand -f 'Keep following new events'
            cand --follow 'Keep following new events'
            cand --json 'One JSON array (or, with --follow, one JSON object per line)'
            cand --no-autostart 'Never start the daemon; fail with exit code 3 when it is not running'
            cand -v 'Print the cause chain of errors'
            cand --verbose 'Print the cause chain of errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'aoctl;wait'= {
            cand --status 'Statuses to wait for, comma separated (e.g. idle,needs_input)'
            cand --timeout 'Give up after this long (e.g. 30s, 5m); exit code 1'
            cand --socket 'The daemon''s socket'
            cand --data-dir 'The data directory (passed to a daemon aoctl starts)'
            cand --tmux-socket 'ao''s tmux server label or socket path (passed to a daemon aoctl starts)'
            cand --config 'The daemon''s configuration file (passed to a daemon aoctl starts)'
            cand --any 'Return when any session matches (default: all)'
            cand --json 'Print the result as JSON'
            cand --no-autostart 'Never start the daemon; fail with exit code 3 when it is not running'
            cand -v 'Print the cause chain of errors'
            cand --verbose 'Print the cause chain of errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'aoctl;project'= {
            cand --socket 'The daemon''s socket'
            cand --data-dir 'The data directory (passed to a daemon aoctl starts)'
            cand --tmux-socket 'ao''s tmux server label or socket path (passed to a daemon aoctl starts)'
            cand --config 'The daemon''s configuration file (passed to a daemon aoctl starts)'
            cand --no-autostart 'Never start the daemon; fail with exit code 3 when it is not running'
            cand -v 'Print the cause chain of errors'
            cand --verbose 'Print the cause chain of errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand add 'Register a repository'
            cand ls 'List projects'
            cand rm 'Unregister a project (refused while it has live sessions)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'aoctl;project;add'= {
            cand --base 'The branch new branches start from (default: origin''s HEAD)'
            cand --agent 'The default agent for this project'
            cand --symlink 'A repository file to symlink into every new worktree (repeatable)'
            cand --copy 'A repository file or directory to copy into every new worktree (repeatable)'
            cand --post-create 'A command to run in every new worktree before the agent starts (repeatable; split like a shell would, no shell runs)'
            cand --exclude 'A gitignore pattern for every new worktree''s exclude file, for what post-create commands make (repeatable; e.g. `node_modules/`)'
            cand --socket 'The daemon''s socket'
            cand --data-dir 'The data directory (passed to a daemon aoctl starts)'
            cand --tmux-socket 'ao''s tmux server label or socket path (passed to a daemon aoctl starts)'
            cand --config 'The daemon''s configuration file (passed to a daemon aoctl starts)'
            cand --json 'Print the result as JSON'
            cand --no-autostart 'Never start the daemon; fail with exit code 3 when it is not running'
            cand -v 'Print the cause chain of errors'
            cand --verbose 'Print the cause chain of errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'aoctl;project;ls'= {
            cand --socket 'The daemon''s socket'
            cand --data-dir 'The data directory (passed to a daemon aoctl starts)'
            cand --tmux-socket 'ao''s tmux server label or socket path (passed to a daemon aoctl starts)'
            cand --config 'The daemon''s configuration file (passed to a daemon aoctl starts)'
            cand --json 'Print the result as JSON'
            cand --no-autostart 'Never start the daemon; fail with exit code 3 when it is not running'
            cand -v 'Print the cause chain of errors'
            cand --verbose 'Print the cause chain of errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'aoctl;project;rm'= {
            cand --socket 'The daemon''s socket'
            cand --data-dir 'The data directory (passed to a daemon aoctl starts)'
            cand --tmux-socket 'ao''s tmux server label or socket path (passed to a daemon aoctl starts)'
            cand --config 'The daemon''s configuration file (passed to a daemon aoctl starts)'
            cand --no-autostart 'Never start the daemon; fail with exit code 3 when it is not running'
            cand -v 'Print the cause chain of errors'
            cand --verbose 'Print the cause chain of errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'aoctl;project;help'= {
            cand add 'Register a repository'
            cand ls 'List projects'
            cand rm 'Unregister a project (refused while it has live sessions)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'aoctl;project;help;add'= {
        }
        &'aoctl;project;help;ls'= {
        }
        &'aoctl;project;help;rm'= {
        }
        &'aoctl;project;help;help'= {
        }
        &'aoctl;daemon'= {
            cand --socket 'The daemon''s socket'
            cand --data-dir 'The data directory (passed to a daemon aoctl starts)'
            cand --tmux-socket 'ao''s tmux server label or socket path (passed to a daemon aoctl starts)'
            cand --config 'The daemon''s configuration file (passed to a daemon aoctl starts)'
            cand --no-autostart 'Never start the daemon; fail with exit code 3 when it is not running'
            cand -v 'Print the cause chain of errors'
            cand --verbose 'Print the cause chain of errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand start 'Start the daemon in the background (if it is not running)'
            cand stop 'Stop the daemon; sessions keep running'
            cand restart 'Stop the daemon (if it runs) and start it again with these settings: a changed configuration file takes effect (an invalid one is refused first, the daemon left running). Sessions keep running'
            cand status 'Show whether the daemon runs, and where'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'aoctl;daemon;start'= {
            cand --socket 'The daemon''s socket'
            cand --data-dir 'The data directory (passed to a daemon aoctl starts)'
            cand --tmux-socket 'ao''s tmux server label or socket path (passed to a daemon aoctl starts)'
            cand --config 'The daemon''s configuration file (passed to a daemon aoctl starts)'
            cand --no-autostart 'Never start the daemon; fail with exit code 3 when it is not running'
            cand -v 'Print the cause chain of errors'
            cand --verbose 'Print the cause chain of errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'aoctl;daemon;stop'= {
            cand --socket 'The daemon''s socket'
            cand --data-dir 'The data directory (passed to a daemon aoctl starts)'
            cand --tmux-socket 'ao''s tmux server label or socket path (passed to a daemon aoctl starts)'
            cand --config 'The daemon''s configuration file (passed to a daemon aoctl starts)'
            cand --no-autostart 'Never start the daemon; fail with exit code 3 when it is not running'
            cand -v 'Print the cause chain of errors'
            cand --verbose 'Print the cause chain of errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'aoctl;daemon;restart'= {
            cand --socket 'The daemon''s socket'
            cand --data-dir 'The data directory (passed to a daemon aoctl starts)'
            cand --tmux-socket 'ao''s tmux server label or socket path (passed to a daemon aoctl starts)'
            cand --config 'The daemon''s configuration file (passed to a daemon aoctl starts)'
            cand --no-autostart 'Never start the daemon; fail with exit code 3 when it is not running'
            cand -v 'Print the cause chain of errors'
            cand --verbose 'Print the cause chain of errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'aoctl;daemon;status'= {
            cand --socket 'The daemon''s socket'
            cand --data-dir 'The data directory (passed to a daemon aoctl starts)'
            cand --tmux-socket 'ao''s tmux server label or socket path (passed to a daemon aoctl starts)'
            cand --config 'The daemon''s configuration file (passed to a daemon aoctl starts)'
            cand --json 'Print the result as JSON'
            cand --no-autostart 'Never start the daemon; fail with exit code 3 when it is not running'
            cand -v 'Print the cause chain of errors'
            cand --verbose 'Print the cause chain of errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'aoctl;daemon;help'= {
            cand start 'Start the daemon in the background (if it is not running)'
            cand stop 'Stop the daemon; sessions keep running'
            cand restart 'Stop the daemon (if it runs) and start it again with these settings: a changed configuration file takes effect (an invalid one is refused first, the daemon left running). Sessions keep running'
            cand status 'Show whether the daemon runs, and where'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'aoctl;daemon;help;start'= {
        }
        &'aoctl;daemon;help;stop'= {
        }
        &'aoctl;daemon;help;restart'= {
        }
        &'aoctl;daemon;help;status'= {
        }
        &'aoctl;daemon;help;help'= {
        }
        &'aoctl;doctor'= {
            cand --socket 'The daemon''s socket'
            cand --data-dir 'The data directory (passed to a daemon aoctl starts)'
            cand --tmux-socket 'ao''s tmux server label or socket path (passed to a daemon aoctl starts)'
            cand --config 'The daemon''s configuration file (passed to a daemon aoctl starts)'
            cand --json 'Print the result as JSON'
            cand --no-autostart 'Never start the daemon; fail with exit code 3 when it is not running'
            cand -v 'Print the cause chain of errors'
            cand --verbose 'Print the cause chain of errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'aoctl;logs'= {
            cand -n 'How many of the last lines to show (0: none)'
            cand --lines 'How many of the last lines to show (0: none)'
            cand --socket 'The daemon''s socket'
            cand --data-dir 'The data directory (passed to a daemon aoctl starts)'
            cand --tmux-socket 'ao''s tmux server label or socket path (passed to a daemon aoctl starts)'
            cand --config 'The daemon''s configuration file (passed to a daemon aoctl starts)'
            cand -f 'Keep following what the daemon writes'
            cand --follow 'Keep following what the daemon writes'
            cand --no-autostart 'Never start the daemon; fail with exit code 3 when it is not running'
            cand -v 'Print the cause chain of errors'
            cand --verbose 'Print the cause chain of errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'aoctl;config'= {
            cand --socket 'The daemon''s socket'
            cand --data-dir 'The data directory (passed to a daemon aoctl starts)'
            cand --tmux-socket 'ao''s tmux server label or socket path (passed to a daemon aoctl starts)'
            cand --config 'The daemon''s configuration file (passed to a daemon aoctl starts)'
            cand --no-autostart 'Never start the daemon; fail with exit code 3 when it is not running'
            cand -v 'Print the cause chain of errors'
            cand --verbose 'Print the cause chain of errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand check 'Check the configuration file (`--config`, `AO_CONFIG`, else the default) as a daemon start would, without a daemon; show the file, data directory and socket it resolves to'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'aoctl;config;check'= {
            cand --socket 'The daemon''s socket'
            cand --data-dir 'The data directory (passed to a daemon aoctl starts)'
            cand --tmux-socket 'ao''s tmux server label or socket path (passed to a daemon aoctl starts)'
            cand --config 'The daemon''s configuration file (passed to a daemon aoctl starts)'
            cand --json 'Print the result as JSON'
            cand --no-autostart 'Never start the daemon; fail with exit code 3 when it is not running'
            cand -v 'Print the cause chain of errors'
            cand --verbose 'Print the cause chain of errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'aoctl;config;help'= {
            cand check 'Check the configuration file (`--config`, `AO_CONFIG`, else the default) as a daemon start would, without a daemon; show the file, data directory and socket it resolves to'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'aoctl;config;help;check'= {
        }
        &'aoctl;config;help;help'= {
        }
        &'aoctl;completions'= {
            cand --socket 'The daemon''s socket'
            cand --data-dir 'The data directory (passed to a daemon aoctl starts)'
            cand --tmux-socket 'ao''s tmux server label or socket path (passed to a daemon aoctl starts)'
            cand --config 'The daemon''s configuration file (passed to a daemon aoctl starts)'
            cand --no-autostart 'Never start the daemon; fail with exit code 3 when it is not running'
            cand -v 'Print the cause chain of errors'
            cand --verbose 'Print the cause chain of errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'aoctl;hook'= {
            cand --socket 'The daemon''s socket'
            cand --data-dir 'The data directory (passed to a daemon aoctl starts)'
            cand --tmux-socket 'ao''s tmux server label or socket path (passed to a daemon aoctl starts)'
            cand --config 'The daemon''s configuration file (passed to a daemon aoctl starts)'
            cand --no-autostart 'Never start the daemon; fail with exit code 3 when it is not running'
            cand -v 'Print the cause chain of errors'
            cand --verbose 'Print the cause chain of errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'aoctl;help'= {
            cand spawn 'Start a new agent session in its own worktree and tmux session'
            cand ls 'List sessions'
            cand get 'Show one session'
            cand why 'Explain a session''s status: the evidence behind each axis and the last transitions'
            cand kill 'Stop a session''s agent and move its worktree to the trash (a dirty worktree stays)'
            cand send 'Type a message into a session''s agent'
            cand tail 'Show a session''s output'
            cand restore 'Relaunch a killed session in its worktree (resuming the agent''s conversation when it can)'
            cand cleanup 'Move the worktrees of ended sessions to the trash (dirty ones stay unless --preserve); optionally forget ended sessions and delete merged ao/* branches'
            cand forget 'Drop the records of ended sessions (their change-log history stays)'
            cand trash 'The worktrees of ended sessions: list, restore, empty'
            cand attach 'Attach your terminal to a session''s tmux session'
            cand events 'Show the change log (session transitions)'
            cand wait 'Wait until sessions reach a status'
            cand project 'Manage projects (git repositories sessions are spawned from)'
            cand daemon 'Start, stop or inspect the daemon'
            cand doctor 'Check the configuration file, the daemon, tmux, git, the socket, the store and the agent CLIs (a missing agent CLI is a warning)'
            cand logs 'The daemon''s log (`<data dir>/aod.log`), its last lines; `-f` follows it'
            cand config 'Check the configuration file without a daemon'
            cand completions 'Print a shell completion script'
            cand hook 'The callback agent hooks run (never fails; see `hook.rs`)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'aoctl;help;spawn'= {
        }
        &'aoctl;help;ls'= {
        }
        &'aoctl;help;get'= {
        }
        &'aoctl;help;why'= {
        }
        &'aoctl;help;kill'= {
        }
        &'aoctl;help;send'= {
        }
        &'aoctl;help;tail'= {
        }
        &'aoctl;help;restore'= {
        }
        &'aoctl;help;cleanup'= {
        }
        &'aoctl;help;forget'= {
        }
        &'aoctl;help;trash'= {
            cand ls 'List the trash, oldest first'
            cand restore 'Move an entry back to its original path, as a registered worktree on its branch'
            cand empty 'Delete trash entries (all of them, or those older than --older-than)'
        }
        &'aoctl;help;trash;ls'= {
        }
        &'aoctl;help;trash;restore'= {
        }
        &'aoctl;help;trash;empty'= {
        }
        &'aoctl;help;attach'= {
        }
        &'aoctl;help;events'= {
        }
        &'aoctl;help;wait'= {
        }
        &'aoctl;help;project'= {
            cand add 'Register a repository'
            cand ls 'List projects'
            cand rm 'Unregister a project (refused while it has live sessions)'
        }
        &'aoctl;help;project;add'= {
        }
        &'aoctl;help;project;ls'= {
        }
        &'aoctl;help;project;rm'= {
        }
        &'aoctl;help;daemon'= {
            cand start 'Start the daemon in the background (if it is not running)'
            cand stop 'Stop the daemon; sessions keep running'
            cand restart 'Stop the daemon (if it runs) and start it again with these settings: a changed configuration file takes effect (an invalid one is refused first, the daemon left running). Sessions keep running'
            cand status 'Show whether the daemon runs, and where'
        }
        &'aoctl;help;daemon;start'= {
        }
        &'aoctl;help;daemon;stop'= {
        }
        &'aoctl;help;daemon;restart'= {
        }
        &'aoctl;help;daemon;status'= {
        }
        &'aoctl;help;doctor'= {
        }
        &'aoctl;help;logs'= {
        }
        &'aoctl;help;config'= {
            cand check 'Check the configuration file (`--config`, `AO_CONFIG`, else the default) as a daemon start would, without a daemon; show the file, data directory and socket it resolves to'
        }
        &'aoctl;help;config;check'= {
        }
        &'aoctl;help;completions'= {
        }
        &'aoctl;help;hook'= {
        }
        &'aoctl;help;help'= {
        }
    ]
    $completions[$command]
}
