# Sourced by scripts/test and scripts/demo: installs the Debian 12 packages the build needs.
# Checks with dpkg-query first, so a machine that has them all never calls apt.

DSPY_APT_PACKAGES=(
  cmake
  ninja-build
  g++
  libboost1.81-dev
  libboost-json1.81-dev
  libcurl4-openssl-dev
  libssl-dev
  libgtest-dev
  libbenchmark-dev
  libhnswlib-dev
)

# Installs whichever of DSPY_APT_PACKAGES are not installed yet.
dspy_install_deps() {
  local pkg missing=()
  for pkg in "${DSPY_APT_PACKAGES[@]}"; do
    if [[ "$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null)" != installed ]]; then
      missing+=("$pkg")
    fi
  done
  if ((${#missing[@]} == 0)); then
    return 0
  fi

  local sudo=()
  if ((EUID != 0)); then
    if ! command -v sudo >/dev/null; then
      echo "Missing packages (${missing[*]}); run as root or install sudo." >&2
      return 1
    fi
    sudo=(sudo)
  fi
  echo "Installing missing packages: ${missing[*]}"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q -o Dpkg::Use-Pty=0 --no-install-recommends "${missing[@]}"
}
