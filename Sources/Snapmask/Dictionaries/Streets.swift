// Streets.swift
extension Dictionaries {
    /// Street base names without a suffix (combine with `streetSuffixes`); letters and spaces only.
    static let streetNames: [String] = words(#"""
    Abbey
    Acorn
    Adams
    Albemarle
    Alder
    Allen
    Alpine
    Amber Hill
    Anchor
    Apple Blossom
    Arbor
    Arrowhead
    Ash
    Ashford
    Aspen
    Augusta
    Autumn Leaf
    Avalon
    Baker
    Barley
    Bay
    Bayview
    Beach
    Beacon
    Bear Creek
    Beaver Creek
    Bedford
    Beech
    Bell
    Bellflower
    Belmont
    Bent Tree
    Berkshire
    Birch
    Birch Hollow
    Birchwood
    Bishop
    Black Oak
    Blackberry
    Blossom
    Blue Heron
    Blue Ridge
    Blue Spruce
    Bluebell
    Bluff
    Bonnie Brae
    Boulder
    Bramble
    Brentwood
    Briar
    Briarwood
    Bridge
    Bridgewater
    Brighton
    Bristol
    Broad
    Broadway
    Brook
    Brook Hollow
    Brookside
    Buckingham
    Buena Vista
    Buttercup
    Butternut
    Cambridge
    Camden
    Camellia
    Canal
    Candlewood
    Canterbury
    Canyon
    Cardinal
    Carlton
    Carriage
    Carter
    Cascade
    Castle
    Cedar
    Cedar Hollow
    Cedar Ridge
    Center
    Chapel
    Chapel Hill
    Chatham
    Cherokee
    Cherry
    Cherry Blossom
    Chesapeake
    Chestnut
    Church
    Cinnamon
    Clark
    Clay
    Clear Creek
    Clearview
    Cliff
    Clinton
    Clover
    Cloverdale
    Cobblestone
    College
    Colonial
    Commerce
    Concord
    Copper
    Coral
    Cornwall
    Cottage
    Cotton
    Country Club
    Countryside
    Cove
    Coventry
    Crane
    Creek
    Creekside
    Crest
    Crestview
    Cross
    Crown
    Crystal
    Cypress
    Daisy
    Dale
    Dartmouth
    Deer Run
    Deerfield
    Delaware
    Devon
    Dogwood
    Dove
    Dover
    Driftwood
    Dunbar
    Durham
    Eagle
    East
    Eastwood
    Edgewater
    Edgewood
    Elk
    Elm
    Elmwood
    Ember
    Emerald
    Essex
    Evergreen
    Fairfax
    Fairview
    Fairway
    Falcon
    Fall Creek
    Falls
    Fern
    Ferndale
    Field
    Fieldstone
    Firefly
    Flint
    Forest
    Forest Glen
    Fountain
    Fox Run
    Foxglove
    Franklin
    Front
    Garden
    Garfield
    Garnet
    Gateway
    Gladstone
    Glen
    Glenview
    Glenwood
    Golden Gate
    Grand
    Granite
    Grant
    Grape
    Gray Fox
    Green
    Green Valley
    Greenfield
    Greenwood
    Grove
    Hamilton
    Hampton
    Harbor
    Harrison
    Hartford
    Harvest
    Haven
    Hawk
    Hawthorn
    Hazel
    Hearthstone
    Heather
    Hemlock
    Heritage
    Heron
    Hickory
    Hidden Valley
    High
    Highland
    Hill
    Hillcrest
    Hillside
    Holly
    Holly Berry
    Homestead
    Honeysuckle
    Hope
    Horizon
    Huckleberry
    Hudson
    Hunters Ridge
    Indian Creek
    Iris
    Ironwood
    Ivy
    Jackson
    Jade
    Jasmine
    Jefferson
    Juniper
    Kensington
    Kent
    Kestrel
    King
    Kingfisher
    Kingston
    Lafayette
    Lake
    Lake Shore
    Lakeside
    Lakeview
    Lantern
    Larch
    Lark
    Laurel
    Lavender
    Ledge
    Lee
    Liberty
    Lighthouse
    Lilac
    Lily
    Lincoln
    Linden
    Lockwood
    Locust
    Lone Pine
    Lotus
    Madison
    Magnolia
    Main
    Mallard
    Manor
    Maple
    Maple Leaf
    Maplewood
    Marigold
    Mariner
    Market
    Marsh
    Mason
    Meadow
    Meadow Lark
    Meadowbrook
    Meadowlark
    Milford
    Mill
    Mill Creek
    Mill Pond
    Mission
    Mistletoe
    Mockingbird
    Monroe
    Morning Glory
    Moss
    Mountain
    Mountain View
    Mulberry
    Myrtle
    New
    Newport
    North
    Northgate
    Northwood
    Nottingham
    Oak
    Oak Ridge
    Oakland
    Oakmont
    Oakwood
    Ocean
    Ocean View
    Old Mill
    Old Orchard
    Olive
    Orange
    Orchard
    Orchid
    Osprey
    Overlook
    Oxford
    Palm
    Paradise
    Park
    Parkside
    Parkview
    Partridge
    Peach
    Peachtree
    Pear
    Pebble
    Pebble Creek
    Pecan
    Pelican
    Penn
    Pheasant
    Pilgrim
    Pine
    Pine Hollow
    Pine Valley
    Pinecrest
    Pinehurst
    Pinto
    Piper
    Plantation
    Pleasant
    Plum
    Plymouth
    Pond
    Poplar
    Portland
    Prairie
    Primrose
    Princeton
    Prospect
    Providence
    Quail
    Quail Run
    Quarry
    Queen
    Railroad
    Rainbow
    Raintree
    Rambling Rose
    Raven
    Red Fox
    Red Oak
    Redbud
    Redwood
    Regency
    Regent
    Richmond
    Ridge
    Ridgeview
    Ridgewood
    River
    River Bend
    Rivercrest
    Riverside
    Riverview
    Robin
    Rock Creek
    Rockport
    Rolling Hills
    Rose
    Rosemary
    Rosewood
    Royal
    Rustic
    Saddle
    Saddlebrook
    Sage
    Saint James
    Salem
    Sandpiper
    Sandstone
    Sandy
    Sassafras
    School
    Seabreeze
    Seaside
    Sequoia
    Shadow
    Shadowbrook
    Shady
    Shady Oak
    Shannon
    Sheffield
    Sherwood
    Shore
    Silver
    Silver Lake
    Silverwood
    Sky
    Skyline
    Smith
    Snowberry
    South
    Sparrow
    Spring
    Spring Valley
    Springfield
    Spruce
    Starlight
    State
    Station
    Stillwater
    Stone
    Stonebridge
    Stony Brook
    Stratford
    Sugar Maple
    Summer
    Summit
    Sun Valley
    Sunflower
    Sunny
    Sunrise
    Sunset
    Surrey
    Sutton
    Swan
    Sweetbriar
    Sycamore
    Tamarack
    Taylor
    Thistle
    Thornwood
    Thrush
    Timber
    Timber Ridge
    Tower
    Trinity
    Tulip
    Tupelo
    Turtle Creek
    Twin Oaks
    Union
    University
    Upland
    Valley
    Valley View
    Vernon
    Victoria
    Village
    Vine
    Vineyard
    Violet
    Vista
    Walnut
    Warbler
    Warren
    Washington
    Water
    Waterford
    Webster
    Wellington
    West
    Westminster
    Westwood
    Wheat
    Whispering Pines
    White Oak
    Whitehall
    Wickham
    Wild Rose
    Wildcat
    Wildflower
    Wildwood
    Williams
    Willow
    Willow Creek
    Willowbrook
    Wilson
    Winchester
    Windmill
    Windsor
    Windy Hill
    Winter
    Wisteria
    Wood
    Woodbridge
    Woodland
    Woodlawn
    Woodpecker
    Woodside
    Wren
    Yellowstone
    York
    Yorkshire
    """#)

    /// Street type suffixes, spelled out; never equal to an entry of `streetNames`.
    static let streetSuffixes: [String] = words(#"""
    Street
    Avenue
    Road
    Lane
    Drive
    Court
    Boulevard
    Way
    Place
    Terrace
    Circle
    Trail
    Parkway
    Highway
    Square
    Crescent
    Alley
    Row
    Path
    Loop
    Pike
    Run
    Close
    Walk
    Plaza
    """#)
}
