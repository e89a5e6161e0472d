-- Times the decision of examples/job_submit.lua in a plain Lua interpreter (no slurmctld):
-- a lower bound on what job_submit/lua costs per call, since the plugin adds its own glue.
-- Usage: lua5.1 bench/plugin/lua_latency.lua examples/job_submit.lua N
slurm = { SUCCESS = 0, ERROR = -1, log_user = function() end }
local script, n = arg[1], tonumber(arg[2] or "100000")
local m = dofile(script)
local comments = {
	{ "typical (pixel_direct)", "qube: path=pixel_direct n_pix=3008 lmax=32 fields=QU" },
	{ "typical (harmonic, derived)", "qube: path=harmonic fields=QU nside=32 fsky=0.1 lmax=64" },
	{ "malformed (rejected)", "qube: n_pix=3 n_pix=4 %s%n" },
}
for _, c in ipairs(comments) do
	local t = {}
	for i = 1, n do
		local job = { comment = c[2], pn_min_memory = nil }
		local t0 = os.clock()
		slurm_job_submit(job, nil, 1000)
		t[i] = os.clock() - t0
	end
	table.sort(t)
	-- os.clock ticks in microseconds: time a batch as well for a finer mean.
	local t0 = os.clock()
	for i = 1, n do
		slurm_job_submit({ comment = c[2] }, nil, 1000)
	end
	local mean = (os.clock() - t0) / n
	local d = m.decide(c[2])
	print(string.format("%-28s n=%d mean=%.2f us p50=%.0f us p99=%.0f us (1 us ticks)  request=%s", c[1], n,
		mean * 1e6, t[math.floor(n / 2)] * 1e6, t[math.floor(n * 0.99)] * 1e6, d and d.mib or "rejected"))
end
