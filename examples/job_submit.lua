--[[
job_submit.lua: the qubemem decision written for SLURM's job_submit/lua plugin.

This is the yardstick for bench/plugin: the same `qube:` grammar (version 1, docs/design.md), the
same QUBE model (1.3, both paths, qubemem's measured harmonic term) and the same request formula
  request_mib = ceil((interpreter_floor + n_pix^2 * 8 + lifetime_peak) * slack / 2^20)
as job_submit/qubemem on its default settings, so the two can be timed side by side. It covers
model 1.3 only (other versions and qubemem.conf are refused) and is not the product: install
job_submit_qubemem.so for that (job_submit_qubemem(8)).

Lua numbers are doubles: figures are exact up to 2^53 bytes (8 PiB), far above any node.
]]

local SLACK = 1.15
local FLOOR = 256 * 1048576
local COVARIANCES = 1
local MAX_PAIRS, MAX_TOKEN = 32, 96

local COMPONENTS = { T = 1, QU = 2, TQU = 3, ["0"] = 1, ["2"] = 2, ["0+2"] = 3 }
local SPECTRA = { T = 1, QU = 3, TQU = 6, ["0"] = 1, ["2"] = 3, ["0+2"] = 6 }
local BOOL = { yes = true, ["true"] = true, on = true, ["1"] = true,
               no = false, ["false"] = false, off = false, ["0"] = false }
local INT_KEYS = { n_pix = true, n_modes = true, n_obs = true, nside = true, lmax_signal = true,
                   lmax = true, working_dim = true, n_bins = true, n_params = true }
local KEYS = "model, path, fields, n_obs, nside, fsky, n_pix, n_modes, lmax_signal, lmax, working_dim, n_bins, n_params, keep_v, cache, switch"

-- Parses the qube: section; returns nil (not ours), or spec, or nil + error text.
local function parse(comment)
	local s = comment:find("qube:", 1, true)
	while s and s > 1 and not comment:sub(s - 1, s - 1):match("%s") do
		s = comment:find("qube:", s + 1, true)
	end
	if not s then return nil, nil, false end
	local section = comment:sub(s + 5):match("^[^;]*")
	local spec, pairs = {}, 0
	for token in section:gmatch("[^%s,]+") do
		pairs = pairs + 1
		if pairs > MAX_PAIRS then return nil, "more than " .. MAX_PAIRS .. " pairs", true end
		if #token > MAX_TOKEN then return nil, "a token is longer than " .. MAX_TOKEN .. " bytes", true end
		local key, value = token:match("^([^=]*)=(.*)$")
		if not key then return nil, "'" .. token .. "' is not a key=value pair", true end
		if spec[key] ~= nil then return nil, "key '" .. key .. "' is given more than once", true end
		if INT_KEYS[key] then
			if not value:match("^%d+$") or #value > 15 or tonumber(value) < 1 then
				return nil, "invalid value '" .. value .. "' for " .. key, true
			end
			spec[key] = tonumber(value)
		elseif key == "fields" then
			if not COMPONENTS[value] then return nil, "invalid value '" .. value .. "' for fields", true end
			spec[key] = value
		elseif key == "fsky" then
			local f = tonumber(value)
			if not value:match("^[%d.]+$") or not f or f <= 0 or f > 1 then
				return nil, "invalid value '" .. value .. "' for fsky", true
			end
			spec[key] = f
		elseif key == "path" then
			if value ~= "harmonic" and value ~= "pixel_direct" and value ~= "auto" then
				return nil, "invalid value '" .. value .. "' for path", true
			end
			spec[key] = value
		elseif key == "model" then
			if value ~= "1.3" and value ~= "latest" and value ~= "1.3.0" then
				return nil, "this Lua yardstick prices model 1.3 only", true
			end
			spec[key] = value
		elseif key == "keep_v" or key == "cache" or key == "switch" then
			if BOOL[value] == nil then return nil, "invalid value '" .. value .. "' for " .. key, true end
			spec[key] = BOOL[value]
		else
			return nil, "unknown key in '" .. token .. "'; valid keys are " .. KEYS, true
		end
	end
	if pairs == 0 then return nil, "'qube:' has no key=value pairs after it", true end
	return spec, nil, true
end

-- Fills in n_pix, n_modes, n_bins, n_params from the science (docs/facts.md section 2).
local function resolve(c)
	if not c.n_obs and c.nside and c.fsky then
		c.n_obs = math.floor((12 * c.nside * c.nside * math.floor(c.fsky * 1e6 + 0.5) + 500000) / 1e6)
	end
	if not c.n_pix then
		if not (c.n_obs and c.fields) then return "missing n_pix: give n_pix, or fields with n_obs" end
		c.n_pix = COMPONENTS[c.fields] * c.n_obs
	end
	local lmax_signal = c.lmax_signal or (c.nside and 4 * c.nside)
	if c.lmax and lmax_signal and c.lmax > lmax_signal then return "lmax must not exceed lmax_signal" end
	if not c.n_modes and c.fields and lmax_signal then
		local ell = math.min(c.lmax or lmax_signal, lmax_signal)
		if ell < 2 then return "lmax must be at least 2" end
		c.n_modes = COMPONENTS[c.fields] * ((ell + 1) ^ 2 - 4)
	end
	local ell = c.lmax or lmax_signal
	if not c.n_bins and ell then c.n_bins = ell > 2 and ell - 1 or 1 end
	if not c.n_params and c.fields and c.n_bins then c.n_params = c.n_bins * SPECTRA[c.fields] end
	c.lmax_signal = lmax_signal
	if c.working_dim and c.working_dim > c.n_pix then return "working_dim must be in 1...n_pix" end
	return nil
end

-- Lifetime peak above baseline, bytes, model 1.3 (+ measured harmonic derivative cache).
local function peak(c, path)
	local P, r = c.n_pix * c.n_pix * 8, c.working_dim or c.n_pix
	local W, PW = r * r * 8, r * c.n_pix * 8
	local filtered = r < c.n_pix
	local f = filtered and 1 or 0
	if path == "harmonic" then
		if not (c.n_modes and c.lmax_signal) then return nil, "the harmonic path needs n_modes and lmax_signal" end
		local M, MW, MP = c.n_modes * c.n_modes * 8, c.n_modes * r * 8, c.n_modes * c.n_pix * 8
		local keep = c.keep_v and 1 or 0
		-- A narrowed inference window (lmax < lmax_signal) switches on the noise-bias kernel.
		local sw = (c.lmax and c.lmax < c.lmax_signal) and 1 or 0
		local cov = W + P + f * (P + PW)
		local basis_p = W + MW + M + f * PW + sw * M + keep * MW
		local basis = basis_p + (1 - keep) * MW + f * MP + sw * (P + f * W + MW)
		local fisher = basis_p + 5 * M
		local spectra = basis_p + M
		return math.max(cov, basis, fisher, spectra)
	end
	if not (c.n_bins and c.n_params) then return nil, "the pixel-direct path needs n_bins and n_params" end
	local cached = c.cache and c.n_params * W or 0
	local cov = W + P + f * P
	local basis = 2 * W + f * PW
	local fisher_p = basis + P + cached
	local fisher = fisher_p + W + c.n_params * W + f * (P + PW)
	local spectra = fisher_p + W + W + c.n_bins * W
	return math.max(cov, basis, fisher, spectra)
end

local function decide(comment)
	local spec, err, ours = parse(comment)
	if not ours then return nil end
	if not spec then return nil, err end
	err = resolve(spec)
	if err then return nil, err end
	local path = spec.path or "auto"
	if path == "auto" then
		if not spec.n_modes then return nil, "missing n_modes for path=auto" end
		path = spec.n_modes ^ 3 <= (spec.n_bins + 1) * spec.n_pix ^ 3 and "harmonic" or "pixel_direct"
	end
	local p, why = peak(spec, path)
	if not p then return nil, why end
	local baseline = FLOOR + COVARIANCES * spec.n_pix * spec.n_pix * 8
	local mib = math.ceil((baseline + p) * SLACK / 1048576 - 1e-9)
	return { mib = mib, path = path, peak = p, baseline = baseline }
end

function slurm_job_submit(job_desc, part_list, submit_uid)
	local comment = job_desc.comment
	if comment == nil then return slurm.SUCCESS end
	local d, err = decide(comment)
	if d == nil and err == nil then return slurm.SUCCESS end
	if d == nil then
		slurm.log_user("qubemem(lua): invalid qube comment: %s", err)
		return slurm.ERROR
	end
	job_desc.pn_min_memory = d.mib
	local record = string.format(
		"qubemem:v1 action=set model=1.3 path=%s peak_bytes=%.0f baseline_bytes=%.0f slack=%s request_mib=%d user_mib=none",
		d.path, d.peak, d.baseline, SLACK, d.mib)
	if job_desc.admin_comment ~= nil and job_desc.admin_comment ~= "" then
		record = job_desc.admin_comment .. "; " .. record
	end
	job_desc.admin_comment = record
	slurm.log_user("qubemem(lua): memory set to %d MiB per node (path %s)", d.mib, d.path)
	return slurm.SUCCESS
end

function slurm_job_modify(job_desc, job_rec, part_list, modify_uid)
	return slurm.SUCCESS
end

-- For bench/plugin/lua_latency.lua, which times decide() without slurmctld.
return { decide = decide }
