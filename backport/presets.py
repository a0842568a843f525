"""Presets: each project's conventions as one named bundle of settings.

`preset = "linux"` (in .backport.toml, `git config backport.preset`, or
`--preset`) layers these values just above the built-in defaults, so a
project's own file, git config and flags still win over any of them, and
`backport config` says "preset linux" beside each value it gave.

The request forms are declarative rules (backport.models.Form): the key,
what its value must look like, where the versions are written, what a bare
version and a versionless request mean, and whether it opts out. Sources:
Xen's docs/process/sending-patches.pandoc, the Linux kernel's
Documentation/process/stable-kernel-rules.rst, QEMU's
docs/devel/stable-process.rst, Mesa's docs/submittingpatches.rst.
"""

from __future__ import annotations

from backport.models import Form

TYPE_CHECKING = False  # not typing's: the hook imports configuration
if TYPE_CHECKING:
    from typing import Any

# `Cc: stable@vger.kernel.org`, `Cc: <stable@vger.kernel.org>`, `Cc: Stable <stable@vger.kernel.org>`
_LINUX_STABLE = r"(?:[^<]*<)?stable@vger\.kernel\.org>?"
_LINUX_NOAUTOSEL = r"(?:[^<]*<)?stable\+noautosel@kernel\.org>?"
# `Cc: qemu-stable@nongnu.org`, `Cc: qemu-stable <qemu-stable@nongnu.org>`, `cc: qemu-stable`
_QEMU_STABLE = r"(?:qemu-stable\s*)?<?qemu-stable(?:@nongnu\.org)?>?"
# `Cc: mesa-stable`, `Cc: 24.1 <mesa-stable>`, `CC: 24.1 24.2 <mesa-stable>`, with or without the list's address
_MESA_STABLE = r"(?P<versions>(?:\d+\.\d+[\s,]*)*)<?mesa-stable(?:@lists\.freedesktop\.org)?>?"

PRESETS: dict[str, dict[str, Any]] = {
    "xen": {
        "keys": ("Backport-to", "Backport"),
        "request-forms": (),
        "bare-version": "exact",
        "fixes-as-request": False,
        "release-patterns": (r"RELEASE-(?P<version>\d+\.\d+\.\d+)",),
        "request-template": "Backport: {versions}",
        "decline-template": "Backport: none",
        # the stable maintainers' footer; Xen's lines also carry -x picks,
        # often more of them, so the line's own majority would say -x
        "pick.reference": "master-commit",
    },
    "linux": {
        "keys": ("Backport-to",),
        "request-forms": (
            Form("Cc", value=_LINUX_STABLE, versions="comment", bare="and-newer", versionless="all"),
            Form("Cc", value=_LINUX_NOAUTOSEL, opt_out=True),
        ),
        "bare-version": "and-newer",
        "fixes-as-request": True,
        "line-patterns": (r"(?:linux-)?(?P<version>\d+\.\d+)\.y",),
        "release-patterns": (r"v(?P<version>\d+\.\d+\.\d+)",),
        "request-template": "Cc: stable@vger.kernel.org # {version}+",
        "decline-template": "Cc: stable+noautosel@kernel.org # <reason>",
        "pick.reference": "upstream-line",
    },
    "qemu": {
        "keys": ("Backport-to",),
        "request-forms": (
            Form("Cc", value=_QEMU_STABLE, versions="comment", bare="and-newer", versionless="all"),
        ),
        "bare-version": "and-newer",
        "fixes-as-request": False,
        "line-patterns": (r"stable-(?P<version>\d+\.\d+)",),
        "release-patterns": (r"v(?P<version>\d+\.\d+\.\d+)",),
        "request-template": "Cc: qemu-stable@nongnu.org",
        "decline-template": "",
        "pick.reference": "cherry-picked-from",
    },
    "mesa": {
        "keys": (),
        "request-forms": (
            Form("Backport-to", bare="and-newer"),
            Form("Cc", value=_MESA_STABLE, bare="exact", versionless="all"),
        ),
        "bare-version": "and-newer",
        "fixes-as-request": True,
        # picks land on staging/24.1 and reach the 24.1 branch after CI: the staging branch is the line
        "line-patterns": (r"staging/(?P<version>\d+\.\d+)", r"(?P<version>\d+\.\d+)"),
        "release-patterns": (r"mesa-(?P<version>\d+\.\d+\.\d+)",),
        "request-template": "Backport-to: {version}",
        "decline-template": "",
        "pick.reference": "cherry-picked-from",
    },
}
NAMES = tuple(PRESETS)
