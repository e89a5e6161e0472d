"""The plugin's C boundary under AddressSanitizer and UBSan: `make -C plugin test` dlopens the
built job_submit_qubemem.so in a harness that plays slurmctld (hand-made job_desc_msg_t values:
NULL comment, NO_VAL64, MEM_PER_CPU, overflowing requests, hostile comments, existing SLURM
strings, job_modify, config reloads), and checks that check-symbols.sh refuses a plugin calling
the info() macro. Run here so `make check` covers it."""

import slurmsandbox as sb


def test_c_boundary_under_address_sanitizer():
    """For the sandbox's release: the plugin and the harness built from that release's headers."""
    proc = sb.build_plugin("test")
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-4000:]
    assert "harness: " in output and " checks, 0 failures" in output, output[-4000:]
    assert "ERROR: AddressSanitizer" not in output and "runtime error:" not in output
    assert "undefined info() refused" in output
