# bash completion for moshx. Install: source this file, or copy it to
# /usr/share/bash-completion/completions/moshx (or ~/.local/share/bash-completion/completions/).
_moshx() {
  local cur prev sub
  COMPREPLY=()
  cur=${COMP_WORDS[COMP_CWORD]}
  prev=${COMP_WORDS[COMP_CWORD-1]}
  sub=${COMP_WORDS[1]}
  local commands="connect serve client bootstrap router ls kill"
  local connect_opts="--local --ssh --server -p --port --family --predict --predict-overwrite --title-prefix --bootstrap --transport --attach --name --history -v --verbose -L -R -D -A -h --help"
  local ls_opts="--ssh --server --json -h --help"
  local kill_opts="--ssh --server --json -h --help"
  local serve_opts="-p --port-range -i --bind --router -l --json --mode --network-timeout --signal-timeout --scrollback --name --list --kill --attach --history --foreground --ssh-bridge --ssh-bridge-to -v --verbose -h --help"
  local client_opts="--mode --connection-id --predict --title-prefix -h --help"
  local bootstrap_opts="--ssh --dest --force --json -h --help"
  local router_opts="-p --port -i --bind --socket --user --max-sessions --max-sessions-per-user -v --verbose -h --help"
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W "$commands --help --version" -- "$cur"))
    return
  fi
  case "$prev" in
    --family) COMPREPLY=($(compgen -W "inet inet6 auto all prefer-inet prefer-inet6" -- "$cur")); return ;;
    --predict) COMPREPLY=($(compgen -W "adaptive always never experimental" -- "$cur")); return ;;
    --mode) COMPREPLY=($(compgen -W "moshx mosh" -- "$cur")); return ;;
    --bootstrap) COMPREPLY=($(compgen -W "auto always never" -- "$cur")); return ;;
    --transport) COMPREPLY=($(compgen -W "auto udp ssh" -- "$cur")); return ;;
    -L|-R|-D) return ;;
    --name|--ssh|--server|-p|--port|--port-range|-i|--bind|-l|--title-prefix|--connection-id|--dest|--network-timeout|--signal-timeout|--scrollback|--history|--name|--kill|--attach|--socket|--router|--user|--max-sessions|--max-sessions-per-user) return ;;
  esac
  case "$sub" in
    connect)
      if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$connect_opts" -- "$cur"))
      else
        COMPREPLY=($(compgen -A hostname -- "$cur"))
      fi ;;
    ls|kill)
      if [[ $cur == -* ]]; then
        [ "$sub" = ls ] && COMPREPLY=($(compgen -W "$ls_opts" -- "$cur"))
        [ "$sub" = kill ] && COMPREPLY=($(compgen -W "$kill_opts" -- "$cur"))
      elif [ "$COMP_CWORD" -eq 2 ]; then
        COMPREPLY=($(compgen -A hostname -- "$cur"))
      fi ;;
    bootstrap)
      if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$bootstrap_opts" -- "$cur"))
      else
        COMPREPLY=($(compgen -A hostname -- "$cur"))
      fi ;;
    serve) COMPREPLY=($(compgen -W "$serve_opts" -- "$cur")) ;;
    client) COMPREPLY=($(compgen -W "$client_opts" -- "$cur")) ;;
    router) COMPREPLY=($(compgen -W "$router_opts" -- "$cur")) ;;
  esac
}
complete -F _moshx moshx
