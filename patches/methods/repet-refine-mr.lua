-- repet-refine at two resolutions, 2048/512 and 4096/1024 (the foreground kernel kept near
-- 60 ms: 5 and 3 frames), the two estimates of each part averaged: foreground and background.
-- Periods up to 12 s, as repet-refine (a four-bar phrase below 120 BPM).
return {
  doc = "repet-refine at 2048 and 4096-sample frames, estimates averaged",
  separate = function(strata, mixture, refs)
    if #refs ~= 2 then error("strata compare: repet-refine-mr separates 2 sources (foreground, background), not " .. #refs, 0) end
    local a = mixture:stft { n_fft = 2048, hop = 512 }:repet { refine = 1, fg_kernel = 5, max_period = 12 }
    local b = mixture:stft { n_fft = 4096, hop = 1024 }:repet { refine = 1, fg_kernel = 3, max_period = 12 }
    return { (a.foreground:istft() + b.foreground:istft()) * 0.5, (a.background:istft() + b.background:istft()) * 0.5 }
  end,
}
