#!/usr/bin/env bash
# Encrypted backups of a joinedup data folder, one archive per zone, each under its own passphrase
# (docs/deployment.md, "Back up and restore"; the zones are in docs/privacy.md).
#
#   docker/backup.sh backup  DATA_DIR OUT_DIR RESTRICTED_PASSFILE PSEUDONYMOUS_PASSFILE
#   docker/backup.sh restore ARCHIVE.enc DATA_DIR PASSFILE
#
# backup writes OUT_DIR/joinedup-restricted-<date>.tar.gz.enc    exports/ register/ identity/ lake/ (all but linked/)
#              OUT_DIR/joinedup-pseudonymous-<date>.tar.gz.enc  lake/linked/ config/
#              and a .sha256 beside each (checked by restore before decrypting)
# warehouse/, analytics/ and reports/ are left out: the next journeys run rebuilds them from the lake.
#
# Why two archives and two passphrases: whoever restores the pseudonymous zone (e.g. to rebuild the marts) need
# not be able to read names and addresses. The pseudonymisation key is in neither archive: it must never travel
# with the data it protects (keep it, and these passphrase files, in the council's secret store). The script
# refuses a key file (JOINEDUP_PSEUDONYM_KEY_PATH, default secrets/pseudonym.key) or a passphrase file inside
# DATA_DIR, and one passphrase for both zones.
#
# Encryption: openssl enc, AES-256-CBC, PBKDF2 (600,000 iterations, salted); openssl is on every Debian/Ubuntu
# host. openssl enc does not authenticate: the .sha256 catches a damaged archive, not a deliberate edit; keep the
# archives where only backup operators can write, or sign them.
set -euo pipefail
umask 077

ITER=600000
CIPHER=(-aes-256-cbc -salt -pbkdf2 -iter "${ITER}" -md sha256)
RESTRICTED=(exports register identity lake)   # lake minus linked/ (excluded below): raw, quarantine, _audit
PSEUDONYMOUS=(lake/linked config)

die() { echo "backup.sh: $*" >&2; exit 2; }

passfile() {  # a readable, non-empty passphrase file that only its owner can read
  [[ -s "$1" ]] || die "passphrase file $1 is missing or empty"
  (( 8#$(stat -c %a "$1") & 8#077 )) && die "passphrase file $1 is open to group or others: chmod 600 $1"
  return 0
}

archive() {  # archive NAME PASSFILE DATA_DIR OUT_DIR -- paths... [--exclude=...]
  local name="$1" pass="$2" data="$3" out="$4"; shift 4
  local present=() excludes=() p
  for p in "$@"; do
    if [[ "${p}" == --exclude=* ]]; then excludes+=("${p}"); elif [[ -e "${data}/${p}" ]]; then present+=("${p}"); fi
  done
  local file="${out}/joinedup-${name}-$(date +%F).tar.gz.enc"
  # -p keeps modes (0700 folders, 0600 files); numeric owners so a restore as root gives them back unchanged
  tar -C "${data}" --numeric-owner "${excludes[@]}" -czpf - "${present[@]}" \
    | openssl enc -e "${CIPHER[@]}" -pass "file:${pass}" -out "${file}.tmp"
  mv "${file}.tmp" "${file}"
  (cd "${out}" && sha256sum "$(basename "${file}")" > "$(basename "${file}").sha256")
  echo "${file}"
}

backup() {
  local data="$1" out="$2" rpass="$3" ppass="$4"
  [[ -d "${data}" ]] || die "no data folder ${data}"
  passfile "${rpass}"; passfile "${ppass}"
  cmp -s "${rpass}" "${ppass}" && die "use a different passphrase for each zone: ${rpass} and ${ppass} are the same"
  local key="${JOINEDUP_PSEUDONYM_KEY_PATH:-secrets/pseudonym.key}" real_data
  real_data="$(realpath "${data}")"
  for p in "${key}" "${rpass}" "${ppass}"; do
    [[ "$(realpath -m "${p}")" == "${real_data}"/* ]] \
      && die "${p} is inside ${data}: a key or passphrase must never be archived with the data it protects"
  done
  mkdir -p "${out}"
  archive restricted "${rpass}" "${data}" "${out}" "${RESTRICTED[@]}" --exclude=lake/linked
  archive pseudonymous "${ppass}" "${data}" "${out}" "${PSEUDONYMOUS[@]}"
}

restore() {
  local file="$1" data="$2" pass="$3"
  [[ -f "${file}" ]] || die "no archive ${file}"
  passfile "${pass}"
  (cd "$(dirname "${file}")" && sha256sum --quiet -c "$(basename "${file}").sha256") \
    || die "${file} does not match its .sha256: damaged or altered, not restored"
  mkdir -p "${data}"
  openssl enc -d "${CIPHER[@]}" -pass "file:${pass}" -in "${file}" | tar -C "${data}" --numeric-owner -xzpf - \
    || die "could not decrypt ${file} with ${pass} (wrong passphrase?)"
  echo "restored ${file} into ${data}"
}

case "${1:-}" in
  backup) [[ $# -eq 5 ]] || die "usage: backup DATA_DIR OUT_DIR RESTRICTED_PASSFILE PSEUDONYMOUS_PASSFILE"
          backup "$2" "$3" "$4" "$5" ;;
  restore) [[ $# -eq 4 ]] || die "usage: restore ARCHIVE.enc DATA_DIR PASSFILE"
           restore "$2" "$3" "$4" ;;
  *) die "usage: backup DATA_DIR OUT_DIR RESTRICTED_PASSFILE PSEUDONYMOUS_PASSFILE | restore ARCHIVE.enc DATA_DIR PASSFILE" ;;
esac
