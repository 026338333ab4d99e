-- wrk script: POST a different JSON body on every request, read from the file in BODIES.
local bodies = {}
local index = 0

function init(args)
  local path = os.getenv("BODIES")
  for line in io.lines(path) do
    bodies[#bodies + 1] = line
  end
  -- each wrk thread starts at a different offset so threads do not send the same bodies
  index = math.random(#bodies)
end

function request()
  index = index % #bodies + 1
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, bodies[index])
end
