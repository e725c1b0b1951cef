"""Photo corpus: the Debian packages its benign pictures come from, and which of their
folders hold photographs."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Source:
    """A Debian package and where its photos are.

    ``include`` globs match the path relative to the package root (fnmatch, so
    "*" also crosses "/"); ``exclude`` globs match the file name and drop
    non-photos the heuristic lets through and views of a scene already kept
    (stereo pairs, crops, processed variants).
    """

    package: str
    include: tuple[str, ...]
    exclude: tuple[str, ...] = ()
    limit: int | None = None  # even sample of large, homogeneous collections
    check: bool = True  # apply the photographic heuristic


def under(folder: str, *names: str) -> tuple[str, ...]:
    """Include globs for the named entries of a folder."""
    return tuple(f"{folder}/{name}" for name in names)


OPENCV_NOT_PHOTOS = (
    # composites, screenshots, diagrams, maps and synthetic images
    *("[0-9][0-9].jpg", "[0-9][0-9]_*", "Feature_*", "Basic_Linear_Transform_*"),
    *("HDRtoneMapping_*", "Morphology_2_*", "Smoothing_Tutorial_*", "bitsextraction*"),
    *("border.jpg", "cameraman_lines*", "detecteddiamonds*", "dualCircles*", "epiresult*"),
    *("fileListImage*", "fisheye_undistorted*", "fuzzy_*", "input.png", "gdal_*", "gsoc_*"),
    *("harris_result*", "histogram_*", "homography_*", "imgs.jpg", "inpaint_result*"),
    *("input_zoom*", "matching2*", "matting_results*", "nlm_result*", "oc_color_*"),
    *("orapple*", "orb_kp*", "originalVSdistorted*", "output.jpg", "outputVideoInput*"),
    *("pattern_img*", "pca_*", "pic[0-9].png", "pointCloud*", "reconstructed_*"),
    *("res.png", "stanford.png", "stereo_undistort*", "sudoku*", "superpixels_*"),
    *("text_det_test_results*", "viewer*", "graf.png", "frame.png", "screen_*"),
)
OPENCV_RELATED = (
    # second views or processed versions of a picture kept under another name
    *("*right*", "aloeR*", "leuvenB*", "graf3*", "aero3*", "ab-1*", "chocclusion*"),
    *("gbocclusion*", "camshift_result*", "handDst*", "*_Result_LBP*", "affinepano*"),
    *("ldr_*", "fusion.png", "messipyr*", "*_PyrUp_*", "*_Erosion_*"),
    *("studentsSample_parvo*", "retina_TreeHdr_small*", "houghlines5*"),
)
# Ordered by preference: when two sources hold the same picture, the first wins.
SOURCES: tuple[Source, ...] = (
    Source(
        "plasma-workspace-wallpapers",
        tuple(
            f"usr/share/wallpapers/{name}/contents/images/*"
            for name in (
                *("BytheWater", "ColorfulCups", "EveningGlow", "FallenLeaf", "Kite"),
                *("MilkyWay", "OneStandsOut", "Path", "summer_1am"),
            )
        ),
    ),
    Source("mate-backgrounds", ("usr/share/backgrounds/mate/nature/*",)),
    Source("lomiri-wallpapers-16.04", ("usr/share/backgrounds/*",), exclude=("umang_*",)),
    Source("lomiri-wallpapers-20.04", ("usr/share/backgrounds/Kleiber_*",)),
    Source("sddm-theme-maldives", ("usr/share/sddm/themes/maldives/background.*",)),
    Source("digikam-data", ("usr/share/digikam/about/images/body-background.jpg",)),
    Source(
        "tuxpaint-data",
        under("usr/share/tuxpaint", "templates/*", "starters/*-back.*"),
        exclude=("chessboard*",),
    ),
    Source(
        "scratch",
        ("usr/share/scratch/Media/Backgrounds/*",),
        exclude=("party-room*", "room[0-9]*", "woods-and-bench*", "basketball-court2*"),
    ),
    Source(
        "opencv-doc",
        under("usr/share/doc/opencv-doc", "examples/*", "opencv4/html/*"),
        exclude=OPENCV_NOT_PHOTOS + OPENCV_RELATED,
    ),
    Source(
        "python3-skimage",
        ("usr/lib/python3/dist-packages/skimage/data/*",),
        exclude=("color.png", "*_right.*"),
    ),
    Source("python3-sklearn", ("usr/lib/python3/dist-packages/sklearn/datasets/images/*",)),
    Source("python-matplotlib-data", ("usr/share/matplotlib/mpl-data/sample_data/*",)),
    Source("scribus-template", ("usr/share/scribus/templates/*.jpg",)),
    Source("scribus-data", ("usr/share/scribus/templates/*.jpg",)),
    Source(
        "libjxl-testdata",
        under(
            "usr/share/libjxl-testdata",
            *("external/wesaturate/500px/*_srgb8.png", "jxl/flower/flower.png"),
            "jxl/hdr_room.png",
        ),
    ),
    # Real astrophotographs: dark skies fail the flat-colour test, and there are
    # hundreds of them, so take an even sample without the heuristic.
    Source("stellarium-data", ("usr/share/stellarium/nebulae/default/*",), limit=120, check=False),
)
